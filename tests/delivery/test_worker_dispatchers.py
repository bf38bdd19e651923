"""`clarion worker --dispatchers 2`: two dispatcher processes deliver each email once."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from clarion.api.app import open_database
from clarion.clock import SystemClock
from clarion.delivery import enqueue
from clarion.model.messages import Category, MessageIntent, MessageSource
from clarion.model.outcomes import SourceKind
from clarion.storage.schema import outbox
from clarion.storage.sql import SqlDatabase
from clarion.workspaces import create_workspace
from tests.conftest import free_port

pytestmark = pytest.mark.slow

MESSAGES = 3_000
POOL = 2
_MESSAGE_ID = re.compile(rb"^Message-ID: <([^@>]+)@", re.MULTILINE | re.IGNORECASE)


class Inbox:
    """Counts arrivals by Message-ID and the client connections they came on."""

    def __init__(self, expected: int) -> None:
        self.ids: Counter[str] = Counter()
        self.peers: set[Any] = set()
        self.all_arrived = threading.Event()
        self._expected = expected
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        match = _MESSAGE_ID.search(envelope.original_content)
        with self._lock:
            self.ids[match.group(1).decode() if match else "?"] += 1
            self.peers.add(session.peer)
            if sum(self.ids.values()) >= self._expected:
                self.all_arrived.set()
        return "250 2.0.0 Ok"


def wait_for_banners(process: subprocess.Popen[bytes], banners: list[str]) -> None:
    """Read the worker's output until every process it started says it is running."""
    assert process.stdout is not None
    output = ""
    while not all(banner in output for banner in banners):
        line = process.stdout.readline()
        assert line, f"the worker exited: {output!r}"
        output += line.decode()


def queue(db: SqlDatabase, workspace: str) -> set[str]:
    """MESSAGES transactional emails to explicit addresses; their message ids."""
    clock = SystemClock()
    with db.write() as tx:
        tx.documents.put(
            workspace,
            "template",
            "receipt",
            {
                "kind": "template",
                "name": "receipt",
                "channel": "email",
                "from": "shop@example.com",
                "subject": "Receipt {{ context.n }}",
                "text": "Thanks, order {{ context.n }}.",
            },
            clock.now(),
        )
        return set(
            enqueue(
                tx,
                [
                    MessageIntent(
                        workspace,
                        "email",
                        "receipt",
                        MessageSource(SourceKind.API, "two", run=str(n)),
                        address=f"buyer{n}@example.com",
                        category=Category.TRANSACTIONAL,
                        context={"n": n},
                    )
                    for n in range(MESSAGES)
                ],
                clock.now(),
            )
        )


def test_worker_with_two_dispatchers_delivers_each_email_once(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'two.db'}"
    db = open_database(db_url)
    workspace = create_workspace(db, SystemClock(), "two").workspace.id
    inbox, port = Inbox(MESSAGES), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    env = {
        **os.environ,
        "CLARION_SMTP_URL": f"smtp://127.0.0.1:{port}?pool={POOL}",
        "CLARION_DATABASE_URL": db_url,
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "clarion.cli", "worker", "--dispatchers", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_banners(worker, ["Clarion worker", "Clarion dispatcher"])
        expected = queue(db, workspace)
        assert inbox.all_arrived.wait(timeout=240), f"{sum(inbox.ids.values())} arrived"
        worker.terminate()  # each dispatcher records its batch, then exits
        assert worker.wait(timeout=120) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        assert worker.stdout is not None
        worker.stdout.close()
        controller.stop()
    with db.read() as tx:
        statuses = dict(
            tx.conn.execute(select(outbox.c.status, func.count()).group_by(outbox.c.status)).all()
        )
    db.close()
    assert set(inbox.ids) == expected
    assert max(inbox.ids.values()) == 1  # no message went out twice
    assert statuses == {"sent": MESSAGES}
    # Each process keeps its own pool of POOL connections: more than one pool's worth
    # of clients means both dispatchers sent.
    assert len(inbox.peers) > POOL, inbox.peers
