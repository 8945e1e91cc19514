"""Built-in presets: shipped one-file import specs, for ``shopseg ingest KIND FILE --preset NAME``.

A preset is a spec file in ``shopseg/io/specs/`` with a ``preset:`` block (its name and the header
columns that detect the export), one file and one table. ``--preset NAME`` with one file is that
spec with the file as its source: the spec's reader options and ``map`` are compiled, with the
same derivations an import spec uses (:mod:`shopseg.io.derivations`), into one SQL expression per
canonical column over the file's own columns, and the file streams through the single-file
ingest. The expressions only reshape values; parsing and validation stay in one place
(:mod:`shopseg.io.columns` and :mod:`shopseg.io.validate`), so a preset never hides a bad row.

=============  =========  =====================  ==========================================================
preset         kind       spec file              source
=============  =========  =====================  ==========================================================
online_retail  orders     online_retail.yaml     UCI Online Retail (Chen, Sain & Guo 2012), CSV or Parquet
cdnow          orders     cdnow.yaml             CDNOW_master.txt (Fader & Hardie), whitespace separated
cdnow_sample   orders     cdnow_sample.yaml      CDNOW_sample.txt, the 1/10 sample used in the BG/NBD papers
shopify        orders     shopify_orders.yaml    Shopify admin "Export orders" CSV
shopify_cu...  customers  shopify_customers.yaml Shopify admin "Export customers" CSV (``shopify_customers``)
=============  =========  =====================  ==========================================================
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from shopseg._sql import literal, quote
from shopseg.errors import InvalidParameterError, SchemaError, did_you_mean
from shopseg.io._read import Reader
from shopseg.io.columns import INPUTS
from shopseg.io.derivations import Compiler, DaysSince
from shopseg.io.spec import FileOptions, ImportSpec

__all__ = ["Preset", "PRESETS", "compile_preset", "get_preset", "detect_preset", "suggest_preset"]

Expr = tuple[str, tuple[str, ...]]


@dataclass(frozen=True)
class Preset:
    """A one-file spec compiled for the single-file ingest.

    Attributes
    ----------
    columns : dict of str to (str, tuple of str)
        Canonical input column -> (SQL expression over source columns, source columns it needs).
    marks : tuple of (str, str, tuple of str)
        Extra reasons (label, SQL predicate over the source, source columns it needs) counted on kept rows.
    fields : int or None
        Number of fields each line must have (whitespace-separated sources).
    fill_down : (str, list of str or None) or None
        The spec file's ``fill_down_by`` key and ``fill_down`` columns.
    """

    name: str
    kind: str
    help: str
    columns: dict[str, Expr]
    spec: ImportSpec
    reader: Reader = Reader()
    signature: frozenset[str] = frozenset()
    marks: tuple[tuple[str, str, tuple[str, ...]], ...] = ()
    fields: int | None = None
    fill_down: tuple[str, list[str] | None] | None = None
    encoding: str | None = None

    @property
    def needs_file_order(self) -> bool:
        """Whether rows must be read in file order first (fill-down, sequence numbers): then they are materialised."""
        return self.fill_down is not None or any(" OVER " in expr for expr, _ in self.columns.values())

    @property
    def whitespace(self) -> bool:
        return self.reader.delimiter == "whitespace"


def compile_preset(spec: ImportSpec, name: str) -> Preset:
    """Compile a one-file spec into SQL over its file's own columns.

    Raises
    ------
    SchemaError
        The spec has more than one file or table, a join or filter, or a ``days_since_previous`` map.
    """
    if len(spec.files) != 1 or len(spec.tables) != 1 or any(t.join or t.filter for t in spec.tables.values()):
        raise SchemaError(
            f"preset {name}: a one-file preset has exactly one file and one table, without join or filter.",
            table=name,
        )
    (file,) = spec.files
    (kind, table), options = next(iter(spec.tables.items())), spec.options_of(file)
    needs: list[str] = []

    def resolve(ref: str, at: str) -> tuple[str, FileOptions]:
        column = ref.removeprefix(f"{file}.")
        needs.append(column)
        return quote(column), options

    compiler = Compiler(resolve, "rowid")
    fields = {f.name: f for f in INPUTS[kind]}
    columns: dict[str, Expr] = {}
    for column, src in table.map.items():
        if isinstance(src, DaysSince):
            raise SchemaError(f"preset {name}: days_since_previous needs an import spec (--spec).", table=name)
        needs.clear()
        sql = compiler.value(src, fields[column].type, f"tables.{kind}.map.{column}")
        assert sql is not None  # the resolver never fails
        columns[column] = sql, tuple(dict.fromkeys(needs))
    if "currency" in fields and "currency" not in columns and options.currency:
        columns["currency"] = literal(options.currency), ()
    marks = []
    for i, mark in enumerate(table.marks):
        needs.clear()
        test = compiler.test(mark.when, f"tables.{kind}.marks[{i}]")
        marks.append((mark.label, f"{test}", tuple(dict.fromkeys(needs))))
    names = tuple(options.columns or ())
    reader = Reader(header=options.header is not False, names=names, delimiter=options.delimiter)
    return Preset(
        name=name,
        kind=kind,
        help=spec.description or name,
        columns=columns,
        spec=spec,
        reader=reader,
        signature=frozenset(spec.preset.detect if spec.preset else ()),
        marks=tuple(marks),
        fields=len(names) if options.delimiter == "whitespace" else None,
        fill_down=(options.fill_down_by, options.fill_down) if options.fill_down_by else None,
        encoding=options.encoding,
    )


@cache
def _load() -> dict[str, Preset]:
    from importlib import resources

    from shopseg.io.spec import load_spec

    out: dict[str, Preset] = {}
    folder = resources.files("shopseg.io").joinpath("specs")
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if not entry.name.endswith(".yaml"):
            continue
        spec = load_spec(Path(str(entry)))
        if spec.preset is not None:
            name = spec.preset.name or entry.name.removesuffix(".yaml")
            out[name] = compile_preset(spec, name)
    return out


class _Presets(Mapping[str, Preset]):
    """The shipped one-file presets by name, read from their spec files on first use."""

    def __getitem__(self, name: str) -> Preset:
        return _load()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(_load())

    def __len__(self) -> int:
        return len(_load())

    def __repr__(self) -> str:
        return f"PRESETS({sorted(self)})"


PRESETS: Mapping[str, Preset] = _Presets()


def get_preset(name: str, kind: str) -> Preset:
    """Return the preset ``name``, checking it loads ``kind``."""
    if name not in PRESETS:
        raise InvalidParameterError(
            f"The 'preset' parameter of ingest must be one of {sorted(PRESETS)}. Got {name!r} instead."
            f"{did_you_mean(name, PRESETS)}"
        )
    preset = PRESETS[name]
    if preset.kind != kind:
        sibling = next((p.name for p in PRESETS.values() if p.kind == kind and p.name.startswith(f"{name}_")), None)
        hint = (
            f"`--preset {sibling}` loads {kind}"
            if sibling
            else f"run `shopseg ingest {preset.kind} FILE --preset {name}`"
        )
        raise InvalidParameterError(f"Preset '{name}' loads {preset.kind}, not {kind}. Hint: {hint}.")
    return preset


def detect_preset(path: Path, fmt: str, kind: str, columns: list[str] | None = None) -> str | None:
    """Guess a preset from the header (or the first line of a whitespace file); ``None`` if none fits.

    Without ``columns`` only whitespace presets are tried, on the words of the file's first line;
    with them, the other presets whose ``detect`` columns the header holds.
    """
    candidates = [p for p in PRESETS.values() if p.kind == kind and p.signature]
    if columns is None:
        if fmt != "csv" or not any(p.whitespace for p in candidates):
            return None
        with open(path, "rb") as fh:
            first = set(fh.readline(4096).decode("utf-8", "replace").split())
        return next((p.name for p in candidates if p.whitespace and p.signature <= first), None)
    found = set(columns)
    return next((p.name for p in candidates if not p.whitespace and p.signature <= found), None)


def suggest_preset(kind: str, columns: list[str]) -> str | None:
    """A preset whose header mostly matches ``columns`` (for a hint when detection failed)."""
    found = set(columns)
    headed = [p for p in PRESETS.values() if not p.whitespace]
    best = max(headed, key=lambda p: len(p.signature & found))
    if best.kind == kind and len(best.signature & found) >= 3:
        return best.name
    return None
