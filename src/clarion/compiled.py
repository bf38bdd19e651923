"""Hot modules compiled to C with mypyc, and the guard that keeps them honest.

The audience consumer's evaluation (the in-memory evaluator, the index of what an
event can affect, the membership bookkeeping) runs ~15% faster
compiled. `clarion.compiled.main(["build"])` (`make compiled`) compiles the modules in `MODULES`
next to their sources (`make install`, `make test` and `make run` do it; a
machine without a C compiler keeps the pure-Python modules) and records each
source's hash in a manifest.

Python imports an extension module before a source file of the same name, so
an edited source would silently run its old compiled code. `guard()` (run when
`clarion` is imported) checks the manifest (the set and each source's hash)
and, when any of them changed or `CLARION_PURE=1` is set, imports every module
of Clarion from its source: all or none, since compiled modules call each other
directly.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import json
import os
import shutil
import sys
import sysconfig
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

PACKAGE = Path(__file__).resolve().parent
SOURCE_ROOT = PACKAGE.parent
MANIFEST = PACKAGE / "_compiled.json"
BUILD_DIR = SOURCE_ROOT.parent / "build" / "mypyc"

MODULES = (
    "clarion.audiences.memory",
    "clarion.audiences.memory.compiler",
    "clarion.audiences.memory.evaluator",
    "clarion.audiences.memory.events",
    "clarion.audiences.memory.logic",
    "clarion.audiences.memory.profile",
    "clarion.audiences.memory.profile_nodes",
    "clarion.audiences.memory.values",
    "clarion.audiences.membership.changes",
    "clarion.audiences.membership.consumer",
    "clarion.audiences.membership.evaluate",
    "clarion.audiences.membership.index",
    "clarion.audiences.membership.relevance",
)
"""Modules compiled together (one mypyc group)."""


def source_of(module: str) -> Path:
    """The source file of a module of Clarion (a package's `__init__.py`)."""
    path = SOURCE_ROOT.joinpath(*module.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def extension_of(module: str) -> Path:
    """Where the compiled module lies (mypyc builds it next to its source)."""
    return source_of(module).with_suffix(sysconfig.get_config_var("EXT_SUFFIX") or ".so")


def _hashes() -> dict[str, str]:
    return {m: hashlib.sha256(source_of(m).read_bytes()).hexdigest() for m in MODULES}


def _stamp() -> dict[str, object]:
    return {"abi": sysconfig.get_config_var("EXT_SUFFIX"), "modules": _hashes()}


def built() -> bool:
    """Whether any compiled module of the set is on disk."""
    return any(extension_of(m).exists() for m in MODULES)


def fresh() -> bool:
    """Whether every compiled module exists and was built from the sources as they are."""
    try:
        recorded = json.loads(MANIFEST.read_text())
    except (OSError, ValueError):
        return False
    return recorded == _stamp() and all(extension_of(m).exists() for m in MODULES)


class _SourceFinder:
    """Imports Clarion's modules from their sources, passing over any build of them
    (one of the set, or one left from a set that listed more modules)."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if not fullname.startswith("clarion."):
            return None
        source = source_of(fullname)
        if not source.is_file():
            return None
        package = [str(source.parent)] if source.name == "__init__.py" else None
        return importlib.util.spec_from_file_location(
            fullname, source, submodule_search_locations=package
        )


_FINDER = _SourceFinder()


def compiled_in_use() -> bool:
    """Whether the compiled modules are the ones imported (fresh, and not turned off)."""
    return _FINDER not in sys.meta_path and fresh()


def guard() -> None:
    """Import the set from source when its build is stale or `CLARION_PURE=1`."""
    if not built() or _FINDER in sys.meta_path:
        return
    if os.environ.get("CLARION_PURE", "") not in ("", "0") or not fresh():
        sys.meta_path.insert(0, _FINDER)


def _strays() -> list[Path]:
    """Compiled modules on disk that the set does not list (left by an earlier set)."""
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
    listed = {extension_of(m) for m in MODULES}
    return [p for p in PACKAGE.rglob(f"*{suffix}") if p not in listed]


def clean() -> None:
    """Remove every compiled module and the manifest (the sources stay). Clarion's
    source tree has no extension modules of its own: any there is a build of ours."""
    MANIFEST.unlink(missing_ok=True)
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
    for built_module in [*PACKAGE.rglob(f"*{suffix}"), *SOURCE_ROOT.glob("*__mypyc*")]:
        built_module.unlink()


def build() -> None:
    """Compile the set in place with mypyc and record the sources it was built from.
    Raises if mypyc or the C compiler fails (the stale build is removed first)."""
    from mypyc.build import mypycify
    from setuptools import setup

    stamp = _stamp()
    clean()
    shutil.rmtree(BUILD_DIR, ignore_errors=True)
    here = Path.cwd()
    os.chdir(SOURCE_ROOT)  # module names are read from the paths
    os.environ["MYPY_CACHE_DIR"] = str(BUILD_DIR / "mypy")
    try:
        paths = [str(source_of(m).relative_to(SOURCE_ROOT)) for m in MODULES]
        setup(
            name="clarion-compiled",
            ext_modules=mypycify(paths, opt_level="3", target_dir=str(BUILD_DIR / "c")),
            script_args=[
                *("-q", "build_ext", "--inplace"),
                *("--build-temp", str(BUILD_DIR / "o"), "--build-lib", str(BUILD_DIR / "lib")),
            ],
        )
    finally:
        os.chdir(here)
    MANIFEST.write_text(json.dumps(stamp, indent=1, sort_keys=True))


def in_checkout() -> bool:
    """Whether Clarion runs from a source checkout (`src/clarion` beside pyproject.toml):
    builds go only there, never into an installed environment's site-packages (whose
    top level holds other projects' mypyc libraries)."""
    return SOURCE_ROOT.name == "src" and (SOURCE_ROOT.parent / "pyproject.toml").is_file()


def main(argv: Sequence[str] | None = None) -> int:
    """`build` (only when stale; `--require` fails without a compiler), `clean`, `status`."""
    args = list(sys.argv[1:] if argv is None else argv)
    command = args[0] if args else "status"
    if command == "status":
        print("compiled, fresh" if fresh() else "stale" if built() else "not built")
        return 0
    if not in_checkout():
        print(f"clarion: {SOURCE_ROOT} is not a source checkout; nothing to {command}")
        return 2
    if command == "clean":
        clean()
        return 0
    if command != "build":
        print(f"unknown command {command!r}: build, clean or status", file=sys.stderr)
        return 2
    if fresh() and not _strays():
        return 0
    try:
        build()
    except (Exception, SystemExit) as error:  # setuptools exits on a compiler error
        clean()
        print(f"clarion: compiling the hot modules failed ({error}); running them as Python")
        return 1 if "--require" in args else 0
    print(f"clarion: compiled {len(MODULES)} modules with mypyc")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
