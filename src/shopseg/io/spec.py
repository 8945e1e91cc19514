"""Import specs: one YAML file that describes how a whole store's export files load.

A spec names the store's files (each with its own format options), and for each
canonical table (``customers``, ``products``, ``orders``, ``events``,
``survey_answers``) which file it comes ``from``, the files ``join``-ed to it
(an order-items file gets its order date from the order-header file; a per-order
customer key is resolved to the person key through the customers file),
``filter``-s on source values, and a ``map`` from canonical columns to a source
column, a constant, or the concatenation of columns:

.. code-block:: yaml

    version: 1
    defaults: {date_format: "%m/%d/%Y %H:%M", currency: BRL}
    files:
      items:     {path: order_items.csv}
      orders:    {path: orders.csv}
      customers: {path: customers.csv}
    tables:
      customers:
        from: customers
        map: {customer_id: customer_unique_id, city: customer_city, region: customer_state}
      orders:
        from: items
        join:
          - {file: orders, on: order_id}
          - {file: customers, on: {orders.customer_id: customer_id}}
        filter:
          - {column: orders.order_status, in: [delivered]}
        map:
          customer_id: customers.customer_unique_id
          ordered_at: order_purchase_timestamp
          quantity: {const: 1}
          unit_price: price

Column references are ``column`` or ``file.column``; an unqualified name is looked
up in the ``from`` file first, then in the joined files in order. The full format
is in ``docs/ingest.md``; :func:`spec_json_schema` gives the JSON Schema editors use.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, Discriminator, Field, Tag, ValidationError, field_validator, model_validator

from shopseg.errors import InvalidParameterError, SchemaError, did_you_mean
from shopseg.io.columns import INPUTS, KINDS
from shopseg.io.derivations import (
    AnyOf,
    Column,
    Concat,
    Const,
    DaysSince,
    FirstOf,
    Mark,
    Replace,
    SequenceBy,
    _Strict,
)

__all__ = [
    "FileOptions",
    "FileSpec",
    "JoinSpec",
    "FilterSpec",
    "Const",
    "Concat",
    "Column",
    "Replace",
    "AnyOf",
    "FirstOf",
    "SequenceBy",
    "Mark",
    "PresetInfo",
    "DaysSince",
    "TableSpec",
    "ImportSpec",
    "load_spec",
    "parse_spec",
    "spec_json_schema",
    "TABLE_ORDER",
]

#: The order tables load in, so orders find their customers and products.
TABLE_ORDER = ("customers", "products", "orders", "events", "survey_answers")


class FileOptions(_Strict):
    """How to read a file (``defaults`` gives them to every file)."""

    format: Literal["csv", "parquet", "jsonl"] | None = Field(None, description="Default: from the extension.")
    encoding: str | None = Field(None, description="Text encoding of CSV files: utf-8 (default), latin-1, utf-16.")
    delimiter: str | None = Field(
        None,
        description="CSV delimiter; default: detected (',', ';', tab, '|'). 'whitespace' splits each line "
        "on runs of blanks (needs columns).",
    )
    header: bool | None = Field(None, description="Whether the first CSV line is a header (default true).")
    columns: list[str] | None = Field(
        None,
        min_length=1,
        description="The column names in file order: name a file without a header, or replace the header's.",
    )
    decimal: Literal[".", ","] | None = Field(
        None,
        description="Decimal mark of numbers; ',' also drops '.' and "
        "spaces as thousands separators (1.234,50 -> 1234.50).",
    )
    date_format: str | None = Field(None, description="strptime format of dates, e.g. '%m/%d/%Y %H:%M'.")
    timezone: str | None = Field(None, description="IANA time zone of times without an offset (default UTC).")
    currency: str | None = Field(None, description="ISO currency of amounts when no column says (e.g. EUR).")
    fill_down_by: str | None = Field(
        None,
        description="A key column: empty cells take the value of the first "
        "row with the same key (Shopify's continuation rows repeat only 'Name').",
    )
    fill_down: list[str] | None = Field(
        None, min_length=1, description="With fill_down_by: only these columns are filled (default: all)."
    )

    def merged(self, defaults: FileOptions) -> FileOptions:
        """These options with the unset ones taken from ``defaults``."""
        values = {
            k: getattr(self, k) if getattr(self, k) is not None else getattr(defaults, k)
            for k in FileOptions.model_fields
        }
        return FileOptions(**values)


class FileSpec(FileOptions):
    """One source file; a relative ``path`` is relative to the spec file."""

    path: str = Field(min_length=1)


class JoinSpec(_Strict):
    """Look up one row of ``file`` for each row: ``on`` a shared column name, or ``{left: right}`` pairs."""

    file: str
    on: str | dict[str, str] = Field(description="A column both sides share, or {left column: right column}.")
    how: Literal["left", "inner"] = Field("left", description="left keeps rows without a match; inner drops them.")

    def pairs(self) -> list[tuple[str, str]]:
        if isinstance(self.on, str):
            return [(self.on, self.on)]
        return list(self.on.items())


class FilterSpec(_Strict):
    """Keep rows whose ``column`` equals a value, is (not) in a list, or is not empty."""

    column: str
    equals: str | int | float | bool | None = None
    in_: list[str | int | float | bool] | None = Field(None, alias="in")
    not_in: list[str | int | float | bool] | None = None
    not_empty: bool | None = None

    @model_validator(mode="after")
    def _one_test(self) -> FilterSpec:
        given = [k for k in ("equals", "in_", "not_in", "not_empty") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"a filter needs exactly one of equals, in, not_in, not_empty; got {len(given)}")
        return self


def _source_tag(value: Any) -> str | None:
    """Which kind of column source a map value is, by its keys (so a mistake is reported against one kind)."""
    if isinstance(value, str):
        return "source:str"
    if isinstance(value, dict):
        for key in ("const", "concat", "first_of", "any", "sequence_by", "days_since_previous", "column"):
            if key in value:
                return f"source:{key}"
        return "source:column"
    if isinstance(value, BaseModel):
        return {
            Const: "source:const",
            Concat: "source:concat",
            FirstOf: "source:first_of",
            AnyOf: "source:any",
            SequenceBy: "source:sequence_by",
            DaysSince: "source:days_since_previous",
        }.get(type(value), "source:column")
    return None


ColumnSource = Annotated[
    Annotated[str, Tag("source:str")]
    | Annotated[Const, Tag("source:const")]
    | Annotated[Concat, Tag("source:concat")]
    | Annotated[FirstOf, Tag("source:first_of")]
    | Annotated[AnyOf, Tag("source:any")]
    | Annotated[SequenceBy, Tag("source:sequence_by")]
    | Annotated[DaysSince, Tag("source:days_since_previous")]
    | Annotated[Column, Tag("source:column")],
    Discriminator(
        _source_tag,
        custom_error_type="column_source",
        custom_error_message="expected a column name, {const: v}, {concat: [...]}, {first_of: [...]}, "
        "{any: [...]}, {sequence_by: [...]}, {days_since_previous: ...} or {column: c, ...}",
    ),
    Field(
        description="A column, {const: v}, {concat: [...]}, {first_of: [...]}, {any: [tests]}, "
        "{sequence_by: [cols]} or {column: c, ...}."
    ),
]


class PresetInfo(_Strict):
    """Makes a shipped one-file spec a preset: ``shopseg ingest KIND FILE --preset NAME``."""

    name: str | None = Field(None, description="The --preset name (default: the spec file's name).")
    detect: list[str] = Field(
        default_factory=list,
        description="Header columns that identify the export: a file whose header has them all loads "
        "with this preset when no --preset is given (a whitespace file: the words of its first line).",
    )


class TableSpec(_Strict):
    """Where one canonical table's rows come from."""

    from_: str = Field(alias="from", description="The file with one row per table row (order lines for orders).")
    join: list[JoinSpec] = Field(default_factory=list)
    filter: list[FilterSpec] = Field(default_factory=list)
    map: dict[str, ColumnSource] = Field(default_factory=dict, description="Canonical column -> source.")
    keep_unmapped: bool = Field(True, description="customers: keep other columns as custom attributes.")
    marks: list[Mark] = Field(
        default_factory=list,
        description="Rows counted under a label of their own in the data-quality report, kept unchanged.",
    )
    duplicates: Literal["error", "first", "last"] = Field(
        "error",
        description="customers and products: a key on several rows is an error, or keep its first or "
        "last row (a customers file with one row per order keyed by the person key needs 'last').",
    )


class ImportSpec(_Strict):
    """A whole store: files, and how each canonical table is made from them."""

    version: Literal[1] = 1
    description: str | None = None
    defaults: FileOptions = Field(default_factory=FileOptions)
    files: dict[str, FileSpec] = Field(min_length=1)
    tables: dict[str, TableSpec] = Field(min_length=1)
    preset: PresetInfo | None = Field(
        None, description="Shipped one-file specs: the --preset name and the header that detects the export."
    )
    base_dir: Path | None = Field(None, exclude=True, description="Set from the spec file's folder; not written.")

    @field_validator("tables")
    @classmethod
    def _known_kinds(cls, tables: dict[str, TableSpec]) -> dict[str, TableSpec]:
        unknown = [k for k in tables if k not in KINDS]
        if unknown:
            hints = "".join(did_you_mean(k, KINDS) for k in unknown)
            raise ValueError(f"unknown table {unknown}; expected some of {list(KINDS)}.{hints}")
        return tables

    @model_validator(mode="after")
    def _references(self) -> ImportSpec:
        problems = []
        for name in self.files:
            options = self.options_of(name)
            if options.delimiter == "whitespace" and not options.columns:
                problems.append(f"files.{name}: delimiter 'whitespace' needs columns (the field names, in order)")
            if options.fill_down and not options.fill_down_by:
                problems.append(f"files.{name}: fill_down needs fill_down_by (the key column)")
        if self.preset is not None:
            joined = any(t.join or t.filter for t in self.tables.values())
            if len(self.files) != 1 or len(self.tables) != 1 or joined:
                problems.append("preset: a one-file preset has exactly one file and one table, without join or filter")
        for kind, table in self.tables.items():
            for where, name in [("from", table.from_)] + [
                (f"join[{i}].file", j.file) for i, j in enumerate(table.join)
            ]:
                if name not in self.files:
                    problems.append(
                        f"tables.{kind}.{where}: unknown file '{name}'; the spec's files are "
                        f"{sorted(self.files)}.{did_you_mean(name, self.files)}"
                    )
            fields = [f.name for f in INPUTS[kind]]
            for column in table.map:
                if column not in fields:
                    problems.append(
                        f"tables.{kind}.map: '{column}' is not a column of {kind}; expected some of "
                        f"{fields}.{did_you_mean(column, fields)}"
                    )
        if problems:
            raise ValueError(" ".join(problems))
        return self

    def path_of(self, file: str) -> Path:
        path = Path(self.files[file].path).expanduser()
        return path if path.is_absolute() or self.base_dir is None else self.base_dir / path

    def options_of(self, file: str) -> FileOptions:
        return self.files[file].merged(self.defaults)

    def ordered_tables(self) -> list[tuple[str, TableSpec]]:
        return [(k, self.tables[k]) for k in TABLE_ORDER if k in self.tables]


def parse_spec(data: Any, *, source: str = "spec", base_dir: Path | None = None) -> ImportSpec:
    """Validate a spec given as a dict; every problem is reported at once.

    Raises
    ------
    SchemaError
        Naming each problem by its place in the spec (``tables.orders.map.quantity``).
    """
    if not isinstance(data, dict):
        raise SchemaError(
            f"{source}: expected a mapping with 'files' and 'tables' at the top; got {type(data).__name__}.",
            table=source,
        )
    try:
        spec = ImportSpec.model_validate(data)
    except ValidationError as exc:
        parts = []
        for err in exc.errors():
            where = ".".join(
                str(p) for p in err["loc"] if not str(p).startswith(("function-", "str", "Const", "Concat", "source:"))
            )
            message = str(err["msg"]).removeprefix("Value error, ")
            parts.append(f"{where or 'top level'}: {message}" + (f" (got {err['input']!r})" if _short(err) else ""))
        unique = list(dict.fromkeys(parts))
        body = "; ".join(p.rstrip(".") for p in unique)
        end = " " if body.endswith("?") else ". "
        raise SchemaError(
            f"{source}: {len(unique)} problem{'s' if len(unique) > 1 else ''} in the import spec: "
            f"{body}{end}See docs/ingest.md, 'Import specs'.",
            table=source,
        ) from None
    spec.base_dir = base_dir
    return spec


def _short(err: Any) -> bool:
    value = err.get("input")
    return (
        err["type"] not in ("missing", "model_type") and isinstance(value, str | int | float) and len(str(value)) < 60
    )


class _Yaml12Loader(yaml.SafeLoader):
    """YAML with YAML 1.2's booleans: only true/false (``on: order_id`` is a key, not ``True``)."""


_Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def load_spec(path: str | Path) -> ImportSpec:
    """Read and validate a YAML (or JSON) spec file; relative file paths are relative to it."""
    path = Path(path)
    if path.is_dir():
        raise InvalidParameterError(f"{path}: is a directory; expected an import spec file (YAML).")
    if not path.exists():
        raise InvalidParameterError(
            f"{path}: no such spec file. Hint: draft one with `shopseg ingest --write-spec {path.name} FILE...`."
        )
    try:
        data = yaml.load(path.read_text(encoding="utf-8-sig"), Loader=_Yaml12Loader)  # noqa: S506 (a safe loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, col {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SchemaError(f"{path.name}: not valid YAML{where}: {problem}.", table=path.name) from None
    return parse_spec(data, source=path.name, base_dir=path.resolve().parent)


def spec_json_schema() -> dict[str, Any]:
    """The JSON Schema of import specs (for editors: ``# yaml-language-server: $schema=...``)."""
    schema = ImportSpec.model_json_schema(by_alias=True)
    schema["properties"].pop("base_dir", None)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "shopseg import spec"
    return schema
