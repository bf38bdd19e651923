"""Settings: command-line flags, then `CLARION_*` environment variables, then
`clarion.toml` (or the file named by `CLARION_CONFIG`), then defaults."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_DATABASE_URL = "sqlite:///./clarion.db"


class Settings(BaseSettings):
    """Everything Clarion reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="CLARION_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = 8000
    admin_key: SecretStr | None = None
    """Bootstrap key for `POST /v1/workspaces` (none: workspaces come from the CLI)."""
    url: str = "http://127.0.0.1:8000"
    """Where the CLI finds a running server (`clarion apply`)."""
    api_key: SecretStr | None = None
    """The secret key the CLI sends to the server."""
    workers: bool = True
    """Run the log consumers, timers and dispatcher inside `clarion serve` (embedded mode)."""
    handoff: bool = True
    """Without `workers` (an API process beside `clarion worker`s): send the messages of
    API-triggered calls from this process, as soon as each call commits; the workers
    claim everything else."""
    public_url: str | None = None
    """The address recipients reach Clarion at, for tracking and unsubscribe links
    (default: http://host:port)."""
    lease_seconds: float = 120
    """How long a dispatcher holds a claimed message before another may take it over."""
    smtp_url: str | None = None
    """Server-wide email provider, e.g. `smtp://user:pass@host:587?starttls=true`;
    without it (and without a workspace's own), email goes to the capture outbox."""
    duckdb_copy: Path | None = None
    """A DuckDB file kept current from the log (profiles, events, consent) for batch
    audience counts on DuckDB (`POST /v1/audiences/preview?engine=duckdb`); off if unset."""
    access_log: bool = True
    """Log every HTTP request (uvicorn's access log). Behind a proxy that logs them
    already, off saves the API process ~10% of its CPU at 1,000 requests/s."""
    outbound_allow: str = ""
    """Non-public networks that vendor and webhook calls may reach, comma-separated
    (e.g. `127.0.0.1`); everything loopback, private, link-local is refused otherwise."""

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_path = Path(os.environ.get("CLARION_CONFIG", "clarion.toml"))
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=toml_path),
        )


def load_settings(**overrides: Any) -> Settings:
    """Settings with command-line `overrides` (None values are ignored)."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
