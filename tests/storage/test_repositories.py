"""Contract tests of the workspace, key and document stores, on every backend."""

from __future__ import annotations

from clarion.model.documents import Ref
from clarion.model.roles import KeyKind, Role
from clarion.storage.base import Page
from clarion.storage.sql import SqlDatabase
from clarion.testing import FakeClock
from clarion.workspaces import Authenticator, create_workspace, issue_key
from clarion.workspaces.keys import sha256_hex


def test_workspaces_are_created_read_and_paged(db: SqlDatabase, clock: FakeClock) -> None:
    made = [create_workspace(db, clock, f"w{i}").workspace for i in range(3)]
    with db.read() as tx:
        assert tx.workspaces.get(made[1].id) == made[1]
        assert tx.workspaces.get("nope") is None
        first = tx.workspaces.list(Page(limit=2))
        rest = tx.workspaces.list(Page(limit=2, after=first[-1].id))
    assert [w.id for w in first + rest] == sorted(w.id for w in made)


def test_keys_store_only_a_hash_and_authenticate(db: SqlDatabase, clock: FakeClock) -> None:
    created = create_workspace(db, clock, "a")
    auth = Authenticator(db)
    principal = auth.authenticate(created.secret_key)
    assert principal is not None
    assert principal.workspace_id == created.workspace.id and principal.role is Role.ADMIN
    write = auth.authenticate(created.write_key)
    assert write is not None and write.kind is KeyKind.WRITE and write.role is None
    with db.read() as tx:
        keys = tx.keys.list(created.workspace.id, Page(limit=10))
        found = tx.keys.find_by_prefix(keys[0].prefix)
    assert found is not None
    assert found[1] in {sha256_hex(created.secret_key), sha256_hex(created.write_key)}
    with db.engine.connect() as conn:
        dump = " ".join(str(row) for row in conn.exec_driver_sql("SELECT * FROM api_keys"))
    assert created.secret_key not in dump and created.write_key not in dump


def test_revoked_keys_stop_working(db: SqlDatabase, clock: FakeClock) -> None:
    ws = create_workspace(db, clock, "a").workspace.id
    with db.write() as tx:
        issued = issue_key(tx, ws, KeyKind.SECRET, Role.EDITOR, "temp", clock.now())
    auth = Authenticator(db, cache_seconds=0)
    assert auth.authenticate(issued.token) is not None
    with db.write() as tx:
        assert tx.keys.revoke(ws, issued.key.id, clock.now())
        assert not tx.keys.revoke(ws, issued.key.id, clock.now())
    assert auth.authenticate(issued.token) is None


def test_keys_of_one_workspace_are_invisible_to_another(db: SqlDatabase, clock: FakeClock) -> None:
    a = create_workspace(db, clock, "a").workspace.id
    b = create_workspace(db, clock, "b").workspace.id
    with db.write() as tx:
        key = issue_key(tx, a, KeyKind.SECRET, Role.VIEWER, "k", clock.now()).key
        assert tx.keys.get(b, key.id) is None
        assert not tx.keys.revoke(b, key.id, clock.now())
        assert all(k.workspace_id == b for k in tx.keys.list(b, Page(limit=10)))


def test_documents_version_and_references(db: SqlDatabase, clock: FakeClock) -> None:
    ws = create_workspace(db, clock, "a").workspace.id
    with db.write() as tx:
        doc, action = tx.documents.put(ws, "note", "n", {"text": "1"}, clock.now())
        assert (action, doc.version) == ("created", 1)
        same, action = tx.documents.put(ws, "note", "n", {"text": "1"}, clock.now())
        assert (action, same.version, same.id) == ("unchanged", 1, doc.id)
        changed, action = tx.documents.put(ws, "note", "n", {"text": "2"}, clock.now())
        assert (action, changed.version) == ("updated", 2)
        tx.documents.put(ws, "note", "m", {"text": "x"}, clock.now())
        tx.documents.set_refs(ws, Ref("note", "m"), [Ref("note", "n"), Ref("note", "n")])
        assert tx.documents.referrers(ws, Ref("note", "n")) == [Ref("note", "m")]
        tx.documents.set_refs(ws, Ref("note", "m"), [])
        assert tx.documents.referrers(ws, Ref("note", "n")) == []
        assert tx.documents.get_by_id(ws, doc.id) is not None
        assert tx.documents.delete(ws, "note", "n")
        assert tx.documents.get(ws, "note", "n") is None
