"""The mypyc-compiled hot modules: used when current, never when stale or turned off."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from clarion import compiled

EXT = sysconfig.get_config_var("EXT_SUFFIX")
REQUIRED = bool(os.environ.get("CLARION_REQUIRE_COMPILED"))


def _files(code: str, **env: str) -> dict[str, str]:
    """Run `code` in a fresh interpreter; it prints a JSON object of module files."""
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


IMPORT_ALL = (
    "import importlib, json, clarion.compiled as c\n"
    "print(json.dumps({m: importlib.import_module(m).__file__ for m in c.MODULES}))"
)


def _needs_build() -> None:
    if compiled.fresh():
        return
    if REQUIRED:
        pytest.fail("CLARION_REQUIRE_COMPILED is set but the compiled modules are not current")
    pytest.skip("the hot modules are not compiled here (`python -m clarion.compiled build`)")


def test_current_build_is_what_imports() -> None:
    _needs_build()
    files = _files(IMPORT_ALL, CLARION_PURE="")
    assert all(f.endswith(EXT) for f in files.values()), files
    assert compiled.compiled_in_use() == (os.environ.get("CLARION_PURE", "") in ("", "0"))


def test_pure_setting_imports_every_module_from_source() -> None:
    _needs_build()
    files = _files(IMPORT_ALL, CLARION_PURE="1")
    assert files == {m: str(compiled.source_of(m)) for m in compiled.MODULES}


def test_a_changed_source_is_not_shadowed_by_its_old_build(tmp_path: Path) -> None:
    """The manifest records another text for one source: every module of the set then
    imports from its source (all or none: compiled modules call each other directly)."""
    _needs_build()
    stamp = json.loads(compiled.MANIFEST.read_text())
    stamp["modules"]["clarion.audiences.memory.values"] = "0" * 64
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps(stamp))
    code = (
        "import importlib, json, pathlib, sys, clarion.compiled as c\n"
        f"c.MANIFEST = pathlib.Path({str(manifest)!r})\n"
        "assert not c.fresh()\n"
        "c.guard()\n"
        "print(json.dumps({m: importlib.import_module(m).__file__ for m in c.MODULES}))"
    )
    files = _files(code, CLARION_PURE="")
    assert files == {m: str(compiled.source_of(m)) for m in compiled.MODULES}


def test_freshness_follows_the_recorded_stamp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _needs_build()
    stamp = json.loads(compiled.MANIFEST.read_text())
    manifest = tmp_path / "manifest.json"
    monkeypatch.setattr(compiled, "MANIFEST", manifest)
    manifest.write_text(json.dumps(stamp))
    assert compiled.fresh()
    manifest.write_text(json.dumps({**stamp, "abi": ".cpython-399-x86_64-linux-gnu.so"}))
    assert not compiled.fresh()
    manifest.write_text("not json")
    assert not compiled.fresh()
    manifest.unlink()
    assert not compiled.fresh()


def test_modules_of_the_set_exist_and_are_listed_once() -> None:
    assert len(set(compiled.MODULES)) == len(compiled.MODULES)
    for module in compiled.MODULES:
        assert compiled.source_of(module).is_file(), module
        assert compiled.extension_of(module).name.endswith(EXT)


def test_builds_left_by_an_earlier_set_are_found_and_cleaned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A module dropped from the set keeps no build that would shadow its source."""
    package = tmp_path / "clarion"
    monkeypatch.setattr(compiled, "SOURCE_ROOT", tmp_path)
    monkeypatch.setattr(compiled, "PACKAGE", package)
    monkeypatch.setattr(compiled, "MANIFEST", package / "_compiled.json")
    listed = compiled.extension_of(compiled.MODULES[1])
    stray = package / "audiences" / f"time_rules{EXT}"
    group = tmp_path / f"0123abcd__mypyc{EXT}"
    for path in (listed, stray, group, package / "_compiled.json"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
    assert compiled._strays() == [stray]
    compiled.clean()
    assert not any(p.exists() for p in (listed, stray, group, package / "_compiled.json"))


def test_builds_and_cleans_only_in_a_source_checkout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Installed into site-packages, `clean` must not touch other projects' libraries."""
    site = tmp_path / "site-packages"
    other = site / f"81d243bd2c585b0f4821__mypyc{EXT}"  # as mypy's own wheel ships
    other.parent.mkdir(parents=True)
    other.write_bytes(b"")
    monkeypatch.setattr(compiled, "SOURCE_ROOT", site)
    monkeypatch.setattr(compiled, "PACKAGE", site / "clarion")
    assert not compiled.in_checkout()
    assert compiled.main(["clean"]) == 2
    assert compiled.main(["build"]) == 2
    assert other.exists()
