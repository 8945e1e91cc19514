"""No module of the package is over 400 lines (STYLE.md: files 150-400 lines; issue 17)."""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "shopseg"
MAX_LINES = 400


def _lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def test_package_is_where_the_test_looks():
    assert (PACKAGE / "__init__.py").is_file(), f"no package at {PACKAGE}"
    assert len(list(PACKAGE.rglob("*.py"))) > 50


def test_no_module_is_over_400_lines():
    sizes = {path.relative_to(PACKAGE.parent).as_posix(): _lines(path) for path in sorted(PACKAGE.rglob("*.py"))}
    offenders = {name: n for name, n in sizes.items() if n > MAX_LINES}
    shown = "\n".join(f"  {name}: {n} lines" for name, n in sorted(offenders.items(), key=lambda kv: -kv[1]))
    assert not offenders, (
        f"{len(offenders)} module(s) over {MAX_LINES} lines; split each along its seams into modules "
        f"of at most {MAX_LINES} lines:\n{shown}"
    )
