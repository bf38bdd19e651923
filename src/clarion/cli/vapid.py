"""`clarion vapid-keys`: a new VAPID key pair for Web Push."""

from __future__ import annotations

import json

import typer

from clarion.channels.webpush import generate_vapid_keys


def vapid_keys(
    as_json: bool = typer.Option(False, "--json", help="print a JSON object"),
) -> None:
    """Generate a VAPID key pair (P-256) for the webpush provider.

    The private key goes in the channel settings (`vapid_private_key`); the public
    key is the `applicationServerKey` a web page passes to `pushManager.subscribe`.
    """
    private, public = generate_vapid_keys()
    if as_json:
        typer.echo(json.dumps({"private_key": private, "public_key": public}))
        return
    typer.echo(f"private key (settings.vapid_private_key): {private}")
    typer.echo(f"public key (applicationServerKey):        {public}")
