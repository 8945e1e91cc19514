"""A seeded corpus of malformed ingest files (issue 14): the generator.

:func:`generate` yields :class:`Case` objects, deterministically from a seed:
a small valid file of one ingest kind (customers, orders, products, events,
survey answers) with one to three mutations applied, written as CSV, JSON
lines or Parquet, plus whole-file oddities (empty file, header only, a
directory, a ``.parquet`` that is not Parquet, random bytes, a truncated gzip).
:mod:`tests.io.fuzz_check` runs each case through ``shopseg.io.ingest`` and
``shopseg ingest`` and checks the outcome.

Ids are prefixed with the case number, so a file that loads never collides
with a later one; survey answers and some orders and events name the
customers ``c1`` .. ``c5`` the base workspace holds (see ``fuzz_check.BASE``).
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

__all__ = ["Case", "Table", "generate", "MUTATIONS", "SPECIALS"]

HUGE = 2_100_000  # bytes: over DuckDB's 2,000,000-byte line limit
KINDS = ("customers", "orders", "products", "events", "survey_answers")


@dataclass
class Table:
    """A header and rows of text cells (None is an empty cell), before serialisation."""

    kind: str
    header: list[str]
    rows: list[list[str | None]]
    numeric: tuple[str, ...] = ()
    dates: tuple[str, ...] = ()

    def col(self, rng: random.Random, among: tuple[str, ...] = ()) -> int:
        names = [c for c in among if c in self.header] or self.header
        return self.header.index(rng.choice(names))


@dataclass
class Case:
    """One corpus entry: a file (or a directory, ``data is None``) and how it was made."""

    number: int
    kind: str
    name: str
    mutations: tuple[str, ...]
    data: bytes | None
    entries: tuple[str, ...] = field(default=())
    rows: int | None = None  # data rows a clean load must read, when the mutations leave it known
    blank: int | None = None  # of which blank (every field empty), when known

    def write(self, root: Path) -> Path:
        path = root / f"case{self.number:05d}" / self.name
        path.parent.mkdir(parents=True, exist_ok=True)
        if self.data is None:
            path.mkdir()
            for entry in self.entries:
                (path / entry).write_text("customer_id\n1\n")
        else:
            path.write_bytes(self.data)
        return path

    def __str__(self) -> str:
        return f"case {self.number} ({self.kind}, {self.name}: {', '.join(self.mutations)})"


# -- valid bases --------------------------------------------------------------------------------------------------------


def _base(kind: str, n: int, rng: random.Random, rows: int) -> Table:
    p = f"k{n}"
    day = lambda i: f"2024-{1 + i % 12:02d}-{1 + i % 28:02d} {i % 24:02d}:15:00"  # noqa: E731
    if kind == "customers":
        header = ["customer_id", "email", "signup_at", "birth_year", "country", "email_marketing", "lat"]
        body = [
            [
                f"{p}c{i}",
                f"u{i}@example.com",
                day(i),
                str(1950 + i % 50),
                rng.choice(["FR", "GB", "Åland"]),
                rng.choice(["true", "no", "1"]),
                f"{45 + i / 7:.4f}",
            ]
            for i in range(rows)
        ]
        return Table(kind, header, body, ("birth_year", "lat"), ("signup_at",))
    if kind == "orders":
        header = [
            "order_id",
            "customer_id",
            "ordered_at",
            "product_id",
            "quantity",
            "unit_price",
            "is_return",
            "discount",
        ]
        body = [
            [
                f"{p}o{i // 2}",
                f"c{1 + i // 2 % 5}" if i // 2 % 3 else f"{p}c{i // 2}",
                day(i // 2),
                f"sku{i % 4}",
                str(1 + i % 3),
                f"{2.5 + i:.2f}",
                "false",
                "0",
            ]
            for i in range(rows)
        ]
        return Table(kind, header, body, ("quantity", "unit_price", "discount"), ("ordered_at",))
    if kind == "products":
        header = ["product_id", "name", "category", "brand", "price"]
        body = [[f"{p}sku{i}", f"Mug «{i}»", "Home > Kitchen", "Acme", f"{9.5 + i:.2f}"] for i in range(rows)]
        return Table(kind, header, body, ("price",))
    if kind == "events":
        header = ["event_id", "customer_id", "anonymous_id", "type", "occurred_at", "product_id", "properties"]
        body = [
            [
                f"{p}e{i}",
                f"c{1 + i % 5}" if i % 2 else None,
                f"a{i}",
                rng.choice(["page_view", "search"]),
                day(i),
                f"sku{i % 3}",
                json.dumps({"path": f"/p/{i}"}),
            ]
            for i in range(rows)
        ]
        return Table(kind, header, body, (), ("occurred_at",))
    header = ["customer_id", "question", "answer", "answered_at"]
    body = [[f"c{1 + i % 5}", f"{p}q{i}", rng.choice(["yes", "often", "🙂"]), day(i)] for i in range(rows)]
    return Table(kind, header, body, (), ("answered_at",))


# -- row-level mutations (on the table) ---------------------------------------------------------------------------------

ABSURD_DATES = [
    "9999-12-31",
    "2099-01-01",
    "0001-01-01",
    "1000-01-01",
    "2024-02-30",
    "99999999",
    "0000-00-00",
    "294247-01-01",
    "-0044-03-15",
    "2024-13-01T25:61:00",
    "2024-01-01T00:00:00+99:00",
    "1e9",
    "now",
]
BAD_NUMBERS = [
    "NaN",
    "nan",
    "inf",
    "-inf",
    "Infinity",
    "-Infinity",
    "1e400",
    "-1e309",
    "1e300",
    "-1e300",
    "2147483648",
    "-2147483649",
    "99999999999999999999",
    "1,5",
    "$3",
    "0x10",
    "1_000",
    "١٢",
    "  7  ",
]


def _cell(table: Table, rng: random.Random, among: tuple[str, ...] = ()) -> tuple[int, int]:
    """A random cell (a short row is padded with empty cells up to it)."""
    r, c = rng.randrange(len(table.rows)), table.col(rng, among)
    row = table.rows[r]
    row.extend([None] * (c + 1 - len(row)))
    return r, c


def _set(table: Table, rng: random.Random, values: list[str], among: tuple[str, ...] = ()) -> None:
    r, c = _cell(table, rng, among)
    table.rows[r][c] = rng.choice(values)


def m_truncated_row(t: Table, rng: random.Random) -> None:
    row = t.rows[rng.randrange(len(t.rows))]
    if len(row) > 1:
        del row[rng.randrange(1, len(row)) :]


def m_ragged_long(t: Table, rng: random.Random) -> None:
    t.rows[rng.randrange(len(t.rows))].extend(["x"] * rng.randint(1, 3))


def m_huge_field(t: Table, rng: random.Random) -> None:
    r, c = _cell(t, rng)
    t.rows[r][c] = "h" * rng.choice([HUGE, HUGE + 500_000])


def m_large_field(t: Table, rng: random.Random) -> None:
    r, c = _cell(t, rng, ("email", "name", "answer", "properties", "product_id", "anonymous_id"))
    t.rows[r][c] = "w" * rng.randint(10_000, 200_000)


def m_nan_inf(t: Table, rng: random.Random) -> None:
    _set(t, rng, BAD_NUMBERS, t.numeric or ("price",))


def m_control_bytes(t: Table, rng: random.Random) -> None:
    r, c = _cell(t, rng)
    t.rows[r][c] = (t.rows[r][c] or "") + "".join(chr(rng.choice([1, 2, 7, 8, 11, 12, 27, 31, 127])) for _ in range(3))


def m_nul_bytes(t: Table, rng: random.Random) -> None:
    r, c = _cell(t, rng)
    v = t.rows[r][c] or "v"
    k = rng.randrange(len(v) + 1)
    t.rows[r][c] = v[:k] + "\x00" + v[k:]


def m_absurd_date(t: Table, rng: random.Random) -> None:
    if t.dates:
        _set(t, rng, ABSURD_DATES, t.dates)


def m_negative(t: Table, rng: random.Random) -> None:
    _set(t, rng, ["-1", "-3", "-0.01", "-999999", "0"], t.numeric or t.header[-1:])


def m_duplicate_ids(t: Table, rng: random.Random) -> None:
    t.rows.append(list(t.rows[rng.randrange(len(t.rows))]))


def m_empty_cells(t: Table, rng: random.Random) -> None:
    for _ in range(rng.randint(1, 4)):
        r, c = _cell(t, rng)
        t.rows[r][c] = rng.choice([None, "", "   ", "\t"])


def m_empty_column(t: Table, rng: random.Random) -> None:
    at = rng.randrange(len(t.header) + 1)
    t.header.insert(at, rng.choice(["", "notes", " "]))
    for row in t.rows:
        row.insert(at, None)


def m_excel_blank_rows(t: Table, rng: random.Random) -> None:
    blank: list[str | None] = [None] * (len(t.header) if rng.random() < 0.8 else 5)
    for _ in range(rng.randint(1, 6)):
        t.rows.append(list(blank))
    if rng.random() < 0.3:
        t.rows.insert(rng.randrange(len(t.rows)), list(blank))


def m_duplicate_header(t: Table, rng: random.Random) -> None:
    t.header[rng.randrange(len(t.header))] = rng.choice(t.header)


def m_drop_column(t: Table, rng: random.Random) -> None:
    c = rng.randrange(len(t.header))
    del t.header[c]
    for row in t.rows:
        if c < len(row):
            del row[c]


def m_header_case(t: Table, rng: random.Random) -> None:
    t.header = [rng.choice([h.upper(), h.replace("_", " ").title(), f" {h} ", h]) for h in t.header]


def m_unicode(t: Table, rng: random.Random) -> None:
    _set(t, rng, ["Zoë 👩‍👩‍👧", "עברית", "e\u0301", "\u202eevil", "\ufeffid", "☃" * 300, "中文,逗号", 'say "hi"'])


def m_quoted_newline(t: Table, rng: random.Random) -> None:
    _set(t, rng, ["two\nlines", "cr\rhere", "crlf\r\nin", "\n"])


def m_bad_bool_or_json(t: Table, rng: random.Random) -> None:
    _set(t, rng, ["Ja", "TRUE", "maybe", "{", "[1,2]", '{"a": NaN}', "null", '"str"', "{}" * 50])


MUTATIONS: dict[str, Callable[[Table, random.Random], None]] = {
    name[2:]: fn for name, fn in globals().items() if name.startswith("m_") and callable(fn)
}
_WEIGHTS = {name: 1 for name in MUTATIONS} | {"huge_field": 0.15, "large_field": 0.3}


# -- serialisation and byte-level mutations -------------------------------------------------------------------------------


def to_csv(t: Table, rng: random.Random, delimiter: str = ",") -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator=rng.choice(["\n", "\n", "\r\n"]))
    w.writerow(t.header)
    w.writerows([["" if v is None else v for v in row] for row in t.rows])
    return buf.getvalue().encode("utf-8")


def to_jsonl(t: Table, rng: random.Random) -> bytes:
    lines = []
    for row in t.rows:
        rec: dict[str, object] = {}
        for name, v in zip(t.header, row, strict=False):
            if name in t.numeric and v is not None and rng.random() < 0.7:
                try:
                    rec[name] = int(v) if v.strip().lstrip("-").isdigit() else float(v)
                    continue
                except ValueError:
                    pass
            rec[name] = v
        lines.append(json.dumps(rec, ensure_ascii=rng.random() < 0.5))  # NaN/inf become bare NaN, Infinity
    return ("\n".join(lines) + "\n").encode("utf-8")


def to_parquet(t: Table, rng: random.Random) -> bytes:
    names = _unique(t.header)
    cols: dict[str, pa.Array] = {}
    for i, name in enumerate(names):
        values = [row[i] if i < len(row) else None for row in t.rows]
        cols[name] = _typed(values) if t.header[i] in t.numeric + t.dates and rng.random() < 0.7 else pa.array(values)
    buf = io.BytesIO()
    pq.write_table(pa.table(cols), buf)
    return buf.getvalue()


def _unique(header: list[str]) -> list[str]:
    """Parquet needs distinct names: the k-th repeat of ``a`` becomes ``a_k``, an empty name ``col``."""
    return [f"{h or 'col'}_{header[:i].count(h) + 1}" if h in header[:i] or not h else h for i, h in enumerate(header)]


def _typed(values: list[str | None]) -> pa.Array:
    """Numbers as int64 or double (NaN and infinities kept), dates as timestamps, else text."""
    for cast in (int, float):
        with contextlib.suppress(ValueError, OverflowError, pa.ArrowInvalid):
            return pa.array([None if v in (None, "") else cast(v) for v in values])  # type: ignore[operator]
    try:
        return pa.array(values, type=pa.string()).cast(pa.timestamp("us"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pa.array(values)


def _body_at(data: bytes, rng: random.Random) -> int:
    """A random offset after the header line (or anywhere when there is no line break)."""
    ends = [i for i in (data.find(b"\n"), data.find(b"\r")) if i >= 0]
    first = min(ends) + 1 if ends else 0
    return rng.randrange(first, len(data)) if first < len(data) else len(data)


def b_stray_quote(data: bytes, rng: random.Random) -> bytes:
    k = _body_at(data, rng)
    return data[:k] + rng.choice([b'"', b'""', b'"x', b"'"]) + data[k:]


def b_latin1_bytes(data: bytes, rng: random.Random) -> bytes:
    k = _body_at(data, rng)
    return data[:k] + rng.choice([b"\xe9", b"Montr\xe9al", b"\xa3", b"\xff\xfe", b"\xc3"]) + data[k:]


def b_bom(data: bytes, rng: random.Random) -> bytes:
    return rng.choice([b"\xef\xbb\xbf", b"\xef\xbb\xbf\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"]) + data


def b_truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: _body_at(data, rng)]


def b_no_final_newline(data: bytes, rng: random.Random) -> bytes:
    return data.rstrip(b"\r\n")


def b_lone_cr(data: bytes, rng: random.Random) -> bytes:  # old Mac line endings, or mixed with \n by a later edit
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r", rng.choice([-1, 1]))


def b_trailing_blank_lines(data: bytes, rng: random.Random) -> bytes:
    return data + rng.choice([b"\n\n\n", b"\r\n\r\n", b"   \n", b"\t\n"])


BYTE_MUTATIONS: dict[str, Callable[[bytes, random.Random], bytes]] = {
    name[2:]: fn for name, fn in globals().items() if name.startswith("b_") and callable(fn)
}


# -- whole-file oddities --------------------------------------------------------------------------------------------------


SPECIALS: dict[str, Callable[[Table, random.Random], tuple[str, bytes | None, tuple[str, ...]]]] = {
    "empty_file": lambda t, rng: (rng.choice(["empty.csv", "empty.parquet", "empty.jsonl"]), b"", ()),
    "header_only": lambda t, rng: (
        "header_only.csv",
        (",".join(t.header) + rng.choice(["", "\n", "\r\n"])).encode(),
        (),
    ),
    "only_blank_rows": lambda t, rng: (
        "blank.csv",
        (",".join(t.header) + "\n" + (rng.choice(["," * (len(t.header) - 1), ",,,,"]) + "\n") * 4).encode(),
        (),
    ),
    "whitespace_only": lambda t, rng: ("ws.csv", rng.choice([b"\n\n\n", b"   ", b"\r\n", b"\xef\xbb\xbf"]), ()),
    "directory": lambda t, rng: (
        rng.choice(["some_dir", "orders.csv"]),
        None,
        tuple(rng.sample(["a.csv", "b.parquet", "notes.txt", "z.jsonl"], rng.randint(0, 3))),
    ),
    "not_parquet": lambda t, rng: (
        "data.parquet",
        rng.choice(
            [to_csv(t, rng), b"PAR1", b"PAR1" + b"\0" * 64 + b"PAR1", bytes(rng.randrange(256) for _ in range(300))]
        ),
        (),
    ),
    "truncated_parquet": lambda t, rng: (
        "cut.parquet",
        (lambda d: d[: rng.randrange(4, len(d) - 1)])(to_parquet(t, rng)),
        (),
    ),
    "random_bytes": lambda t, rng: (
        rng.choice(["noise.csv", "noise.jsonl"]),
        bytes(rng.randrange(256) for _ in range(rng.randint(1, 2000))),
        (),
    ),
    "bad_gzip": lambda t, rng: (
        "data.csv.gz",
        rng.choice(
            [to_csv(t, rng), gzip.compress(to_csv(t, rng))[:-9], gzip.compress(b_latin1_bytes(to_csv(t, rng), rng))]
        ),
        (),
    ),
    "good_gzip": lambda t, rng: ("data.csv.gz", gzip.compress(to_csv(t, rng)), ()),
    "json_garbage": lambda t, rng: (
        "events.jsonl",
        rng.choice(
            [
                b'{"a": 1}\n{"a": \n',
                b"[1, 2, 3]\n",
                b'"just a string"\n',
                b"{" * 5000,
                b'{"event_id": "x"}{"event_id": "y"}\n',
            ]
        ),
        (),
    ),
}


def generate(seed: int, count: int) -> Iterator[Case]:
    """``count`` cases, the same ones for the same ``seed``.

    Every 5th case is a whole-file oddity, taken in turn; the others start with each row mutation in
    turn and add up to two drawn at random (CSV files also up to two byte-level ones), so 60 cases try
    every mutation and oddity at least once. Kinds take turns too (shifted every 5 cases, so every
    kind meets the oddities).
    """
    rng = random.Random(seed)
    names = sorted(MUTATIONS)
    specials = sorted(SPECIALS)
    weights = [_WEIGHTS[n] for n in names]
    for number in range(count):
        kind = KINDS[(number + number // 5) % len(KINDS)]
        table = _base(kind, number, rng, rng.randint(1, 8))
        if number % 5 == 4:
            special = specials[number // 5 % len(specials)]
            name, data, entries = SPECIALS[special](table, rng)
            yield Case(number, kind, name, (special,), data, entries)
            continue
        first = names[(number - number // 5) % len(names)]
        applied = [first, *rng.choices(names, weights, k=rng.randint(0, 2))]
        for m in applied:
            MUTATIONS[m](table, rng)
        fmt = rng.choices(["csv", "jsonl", "parquet"], [6, 2, 2])[0]
        if fmt == "jsonl":
            yield Case(number, kind, f"{kind}.jsonl", (*applied, "jsonl"), to_jsonl(table, rng), rows=len(table.rows))
            continue
        if fmt == "parquet":
            yield Case(
                number, kind, f"{kind}.parquet", (*applied, "parquet"), to_parquet(table, rng), rows=len(table.rows)
            )
            continue
        delimiter = rng.choice([",", ",", ",", ";", "\t"])
        data = to_csv(table, rng, delimiter)
        extra = rng.sample(sorted(BYTE_MUTATIONS), rng.choice([0, 0, 1, 1, 2]))
        for b in extra:
            data = BYTE_MUTATIONS[b](data, rng)
        suffix = ".tsv" if delimiter == "\t" and rng.random() < 0.5 else ".csv"
        known = set(extra) <= {"no_final_newline", "trailing_blank_lines", "bom"}
        # DuckDB accepts one empty field past the header's (a trailing delimiter), so such a row is blank too
        width = (len(table.header), len(table.header) + 1)
        blank = sum(len(r) in width and all((v or "").strip(" ") == "" for v in r) for r in table.rows)
        yield Case(
            number,
            kind,
            f"{kind}{suffix}",
            (*applied, *extra, f"delim {delimiter!r}"),
            data,
            rows=len(table.rows) if known else None,
            blank=blank if known else None,
        )
