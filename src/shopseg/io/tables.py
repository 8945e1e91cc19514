"""Customers, products, events and survey answers: checks and writes.

Rules (see docs/ingest.md):

- ``customers`` and ``products`` are upserts: a known id is updated (a value
  given in the file replaces the stored one, an empty cell keeps it), a new id
  is inserted; a row without its id is flagged and not kept; the same id twice
  in one file is refused.
- ``events`` are idempotent by ``event_id``: ids already in the workspace, or
  repeated in the file, are skipped and counted. Events of a ``customer_id``
  not in ``customers`` are kept and flagged (events often arrive before the
  customer sync); an event with neither ``customer_id`` nor ``anonymous_id`` is
  flagged and not kept.
- ``survey_answers`` of a customer not in ``customers`` refuse the ingest (a
  wrong join key would silently lose psychographic input), as does the same
  ``(customer_id, question)`` twice in one file; an answer already stored is
  replaced. Both customer checks apply once customers have been loaded.
"""

from __future__ import annotations

import duckdb

from shopseg._sql import quote
from shopseg.errors import SchemaError
from shopseg.io.orders import MONEY_LIMIT
from shopseg.io.report import DROPPED, MARKED, REPLACED, SKIPPED
from shopseg.io.validate import STAGE_TABLE, Check, Staged, drop_predicate, future_cutoff, raise_problems
from shopseg.schema import TABLES

__all__ = ["table_checks", "check_table_across_rows", "write_table", "is_empty"]

KEYS = {
    "customers": ("customer_id",),
    "products": ("product_id",),
    "events": ("event_id",),
    "survey_answers": ("customer_id", "question"),
}
_CONSENT = ("email_marketing", "sms_marketing", "profiling")
_UNKNOWN = "customer_id IS NOT NULL AND customer_id NOT IN (SELECT customer_id FROM customers)"


def _has_customers(con: duckdb.DuckDBPyConnection) -> bool:
    row = con.execute("SELECT count(*) > 0 FROM customers").fetchone()
    return bool(row and row[0])


def table_checks(con: duckdb.DuckDBPyConnection, kind: str, staged: Staged) -> tuple[list[str], list[Check]]:
    """Columns that must not be null, and the row checks of ``kind``."""
    if kind == "customers":
        return [], [Check(f"missing customer_id {DROPPED}", "customer_id IS NULL", "drop")]
    if kind == "products":
        checks = [Check(f"missing product_id {DROPPED}", "product_id IS NULL", "drop")]
        if "price" in staged.present:
            checks.append(Check(f"non-positive price {MARKED}", "price <= 0", "mark"))
            checks.append(
                Check(
                    "price: out of range",
                    f"isfinite(price) AND abs(price) >= {MONEY_LIMIT}",
                    "error",
                    "price",
                    f"a price under {MONEY_LIMIT:,} in absolute value",
                )
            )
        return [], checks
    if kind == "events":
        who = [c for c in ("customer_id", "anonymous_id") if c in staged.present]
        if not who:
            raise SchemaError(
                f"{staged.source.name}: events need a 'customer_id' or an 'anonymous_id' column; found "
                f"{[c for c in staged.source.columns if not c.startswith('_')]}. "
                "Map one with --map customer_id=<column> or --map anonymous_id=<column>.",
                table=staged.source.name,
                column="customer_id",
            )
        nobody = " AND ".join(f"{c} IS NULL" for c in who)
        checks = [
            Check(f"no customer_id or anonymous_id {DROPPED}", nobody, "drop"),
            Check(f"dated in the future {DROPPED}", f"occurred_at > {future_cutoff()}", "drop"),
        ]
        if "customer_id" in who and _has_customers(con):
            checks.append(Check(f"unknown customer_id {MARKED}", _UNKNOWN, "mark", lookup=True))
        return ["event_id", "type", "occurred_at"], checks
    checks = []
    if _has_customers(con):
        checks.append(
            Check(
                "customer_id: not in customers",
                _UNKNOWN,
                "error",
                "customer_id",
                "a customer_id already loaded. Hint: ingest the customers file first, or check the --map of customer_id",
                lookup=True,
            )
        )
    return ["customer_id", "question", "answer"], checks


def check_table_across_rows(con: duckdb.DuckDBPyConnection, kind: str, staged: Staged, checks: list[Check]) -> None:
    """Refuse a key repeated in the file (events are deduplicated instead)."""
    if kind == "events":
        return
    key = ", ".join(KEYS[kind])
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _shopseg_win AS SELECT _row FROM {STAGE_TABLE} "
        f"WHERE NOT ({drop_predicate(checks)}) QUALIFY count(*) OVER (PARTITION BY {key}) > 1"
    )
    row = con.execute("SELECT count(*) FROM _shopseg_win").fetchone()
    if row and row[0]:
        check = Check(
            f"{' and '.join(KEYS[kind])} repeated",
            "_row IN (SELECT _row FROM _shopseg_win)",
            "error",
            KEYS[kind][0],
            f"each {' + '.join(KEYS[kind])} once per file",
        )
        raise_problems(con, staged, [(check, int(row[0]))])


def _select(kind: str, staged: Staged) -> list[str]:
    out = []
    for col in TABLES[kind].columns:
        value = col.name if col.name in staged.present else "NULL"
        if kind == "customers" and col.name == "gender" and value != "NULL":
            value = "lower(gender)"
        out.append(f"CAST({value} AS {col.sql_type}) AS {quote(col.name)}")
    return out


def write_table(
    con: duckdb.DuckDBPyConnection, kind: str, staged: Staged, checks: list[Check]
) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    """Write the kept rows; return (rows added, rows updated, extra reasons)."""
    if kind == "events":
        return _write_events(con, _select(kind, staged), f"NOT ({drop_predicate(checks)})", staged.source.n_rows)
    kept = f"SELECT _row, {', '.join(_select(kind, staged))} FROM {STAGE_TABLE} WHERE NOT ({drop_predicate(checks)})"
    names = [quote(c) for c in TABLES[kind].names]
    match = " AND ".join(f"t.{quote(k)} = s.{quote(k)}" for k in KEYS[kind])
    if kind in ("customers", "products"):
        return _upsert(con, kind, kept, names, match)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _shopseg_win AS {kept}")
    replaced = _n(
        con.execute(f"DELETE FROM survey_answers AS t WHERE EXISTS (SELECT 1 FROM _shopseg_win AS s WHERE {match})")
    )
    added = _n(con.execute(f"INSERT INTO survey_answers SELECT {', '.join(names)} FROM _shopseg_win ORDER BY _row"))
    extra = {f"answer already stored {REPLACED}": replaced} if replaced else {}
    return {kind: added - replaced}, {kind: replaced}, extra


def _upsert(
    con: duckdb.DuckDBPyConnection, kind: str, kept: str, names: list[str], match: str
) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    """Customers and products: update the known ids (a given value replaces the stored one), insert the new.

    A first load inserts the ``kept`` rows straight in file order; an upsert reads them twice, from a copy.
    """
    values = [f"coalesce({n}, false)" if n.strip('"') in _CONSENT else n for n in names]

    def insert(rows: str) -> str:
        return f"INSERT INTO {kind} ({', '.join(names)}) SELECT {', '.join(values)} FROM {rows} AS s"

    if is_empty(con, kind):
        return {kind: _n(con.execute(insert(f"({kept})")))}, {kind: 0}, {}
    con.execute(f"CREATE OR REPLACE TEMP TABLE _shopseg_win AS {kept}")
    key = KEYS[kind]
    sets = ", ".join(f"{n} = coalesce(s.{n}, t.{n})" for n in names if n.strip('"') not in key)
    updated = _n(con.execute(f"UPDATE {kind} AS t SET {sets} FROM _shopseg_win AS s WHERE {match}"))
    added = _n(
        con.execute(
            f"{insert('_shopseg_win')} WHERE NOT EXISTS (SELECT 1 FROM {kind} AS t WHERE {match}) ORDER BY _row"
        )
    )
    return {kind: added}, {kind: updated}, {}


#: Rows one grouping pass over event ids may read. DuckDB 1.5 ran out of memory grouping the 128M ids of
#: the 10M-customer store in one pass, at 400MB and at 700MB; 16M ids a pass peak under 0.5 GB at 400MB.
GROUP_PASS_ROWS = 16_000_000


def id_passes(n_rows: int, key: str) -> list[str]:
    """Predicates splitting the rows into grouping passes of at most :data:`GROUP_PASS_ROWS` (by a hash of
    ``key``, so every id falls in exactly one pass); ``["true"]`` when one pass holds them all."""
    parts = max(1, -(-n_rows // GROUP_PASS_ROWS))
    return ["true"] if parts == 1 else [f"hash({key}) % {parts} = {k}" for k in range(parts)]


def _write_events(
    con: duckdb.DuckDBPyConnection, values: list[str], kept: str, n_rows: int
) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    """Insert each event_id's first kept row of the file unless the workspace has it already.

    Into an empty table see :func:`_first_events`. Otherwise one narrow aggregate counts the kept rows and
    the distinct hashes of their ids. The usual file repeats no id: its kept rows are inserted straight from
    the staged rows (no copy of them, no join). Otherwise the first row of each id is found by ``min(_row)``
    per id (in passes of at most :data:`GROUP_PASS_ROWS` rows) and the rows are filtered by a semi-join:
    nothing sorts or windows whole rows. Ids already in the workspace are skipped by an anti-join against ``events``.
    """
    if is_empty(con, "events"):
        return _first_events(con, values, kept)
    # one pass over the ids' 64-bit hashes (GROUP BY, not count(DISTINCT): the grouped form spills to disk);
    # fewer hashes than rows means an id repeated, or two ids sharing a hash: the exact path below tells which
    row = con.execute(
        f"SELECT coalesce(sum(n), 0), count(*) FROM (SELECT count(*) AS n FROM {STAGE_TABLE} "
        f"WHERE {kept} GROUP BY hash(event_id))"
    ).fetchone()
    total, hashes = (int(row[0]), int(row[1])) if row else (0, 0)
    where = [kept]
    if hashes < total:
        con.execute("CREATE OR REPLACE TEMP TABLE _shopseg_first (_row BIGINT)")
        for part in id_passes(n_rows, "event_id"):
            con.execute(
                f"INSERT INTO _shopseg_first SELECT min(_row) FROM {STAGE_TABLE} WHERE {kept} AND {part} GROUP BY event_id"
            )
        where.append("w._row IN (SELECT _row FROM _shopseg_first)")
    new = "NOT EXISTS (SELECT 1 FROM events e WHERE e.event_id = w.event_id)"
    counts = con.execute(f"SELECT count(*) FILTER (WHERE NOT ({new})) FROM {STAGE_TABLE} w WHERE {kept}").fetchone()
    seen = int(counts[0]) if counts else 0
    if seen:
        where.append(new)
    insert = f"INSERT INTO events SELECT {', '.join(values)} FROM {STAGE_TABLE} w WHERE {' AND '.join(where)}"
    added = _n(con.execute(insert))
    repeated = total - seen - added
    extra = {}
    if seen:
        extra[f"event_id in the workspace {SKIPPED}"] = seen
    if repeated:
        extra[f"event_id repeated in the file {DROPPED}"] = repeated
    return {"events": added}, {}, extra


def _first_events(
    con: duckdb.DuckDBPyConnection, values: list[str], kept: str
) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    """Into an empty ``events`` table: insert every kept row, then find the ids the file repeats in the table
    and keep each one's first row of the file.

    The repeated ids are found in the stored ``event_id`` column, not in the file (every pass over the staging
    view reads and parses the file again). First the ids' 64-bit hashes are grouped, in one pass: a hash
    repeated is a candidate (an id repeated, or two ids that share a hash). Only the candidates' rows are then
    grouped by id, in hash passes if they are many. The usual file repeats no id and has no candidate: at 10M
    customers one pass over the 128M hashes took 19 CPU-s where nine passes grouping the ids took 56. Each
    repeated id's rows are deleted and its first kept row of the file is inserted again.
    """
    select = ", ".join(values)
    inserted = _n(con.execute(f"INSERT INTO events SELECT {select} FROM {STAGE_TABLE} w WHERE {kept}"))
    con.execute("CREATE OR REPLACE TEMP TABLE _shopseg_dup (event_id VARCHAR, n BIGINT)")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _shopseg_dup_hash AS SELECT h, count(*) AS n "
        "FROM (SELECT hash(event_id) AS h FROM events) GROUP BY h HAVING count(*) > 1"
    )
    row = con.execute("SELECT coalesce(sum(n), 0) FROM _shopseg_dup_hash").fetchone()
    candidates = int(row[0]) if row else 0
    if candidates:
        for part in id_passes(candidates, "event_id"):
            con.execute(
                "INSERT INTO _shopseg_dup SELECT event_id, count(*) FROM events "
                f"WHERE hash(event_id) IN (SELECT h FROM _shopseg_dup_hash) AND {part} "
                "GROUP BY event_id HAVING count(*) > 1"
            )
    row = con.execute("SELECT count(*), coalesce(sum(n), 0) FROM _shopseg_dup").fetchone()
    ids, rows = (int(row[0]), int(row[1])) if row else (0, 0)
    if not ids:
        return {"events": inserted}, {}, {}
    con.execute("DELETE FROM events WHERE event_id IN (SELECT event_id FROM _shopseg_dup)")
    first = (
        f"SELECT min(_row) FROM {STAGE_TABLE} WHERE {kept} "
        "AND event_id IN (SELECT event_id FROM _shopseg_dup) GROUP BY event_id"
    )
    con.execute(f"INSERT INTO events SELECT {select} FROM {STAGE_TABLE} w WHERE {kept} AND w._row IN ({first})")
    repeated = rows - ids
    return {"events": inserted - repeated}, {}, {f"event_id repeated in the file {DROPPED}": repeated}


def is_empty(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether ``table`` has no row (reads at most one)."""
    row = con.execute(f"SELECT count(*) = 0 FROM (SELECT 1 FROM {quote(table)} LIMIT 1)").fetchone()
    return bool(row and row[0])


def _n(result: duckdb.DuckDBPyConnection) -> int:
    row = result.fetchone()
    return int(row[0]) if row else 0
