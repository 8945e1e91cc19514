"""`shopseg features build` and `shopseg features show`: the per-customer feature table."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from shopseg.cli._common import console, open_workspace, print_table
from shopseg.cli._output import JsonOpt, emit_json
from shopseg.config import get_setting
from shopseg.errors import NotFound, did_you_mean

FEATURES_TABLE = "customer_features"  # shopseg.features.FEATURES_TABLE (imported with the build, on use)

__all__ = ["features_app", "register"]

features_app = typer.Typer(
    help="Per-customer features (RFM, behaviour, engagement, profile) as of a date.",
    no_args_is_help=True,
)


_SUMMARY_KEYS = (
    "customers",
    "buyers",
    "repeat_buyers",
    "mean_frequency",
    "mean_recency",
    "mean_T",
    "mean_monetary_value",
    "total_revenue",
)


_LABELS = (
    "customers",
    "buyers (orders > 0)",
    "repeat buyers (frequency > 0)",
    "mean frequency (buyers)",
    "mean recency (buyers)",
    "mean T (buyers)",
    "mean monetary_value (repeat buyers)",
    "total revenue",
)


def _summary_rows(ws: Any) -> list[tuple[str, Any]]:
    """The build's summary, computed in DuckDB over the stored table (a 1M-row frame is never built)."""
    row = ws.con.execute(
        f"""SELECT count(*), count(*) FILTER (orders > 0), count(*) FILTER (orders > 0 AND frequency > 0),
                   coalesce(avg(frequency) FILTER (orders > 0), 0), coalesce(avg(recency) FILTER (orders > 0), 0),
                   coalesce(avg("T") FILTER (orders > 0), 0),
                   coalesce(avg(monetary_value) FILTER (orders > 0 AND frequency > 0), 0),
                   coalesce(sum(revenue), 0)
            FROM "{FEATURES_TABLE}" """
    ).fetchone()
    values = [int(v) for v in row[:3]] + [float(v) for v in row[3:]]
    return list(zip(_LABELS, values, strict=True))


@features_app.command("build")
def build(
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Last day of data to use, YYYY-MM-DD (default: date of the latest order)."),
    ] = None,
    time_unit: Annotated[
        str | None, typer.Option("--time-unit", help="Unit of recency and T: days or weeks (default: setting).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Compute the feature table and store it in the workspace as customer_features."""
    unit = time_unit or get_setting("time_unit")
    from shopseg.features.asof import check_time_unit, parse_date
    from shopseg.features.build import build_features

    check_time_unit(unit)
    if as_of is not None:
        parse_date(as_of)
    engine = get_setting("engine")
    with open_workspace() as ws:
        with console.status(f"Building customer features on {engine}..."):
            build_features(ws, engine=engine, as_of=as_of, time_unit=unit, return_frame=False)
        summary = _summary_rows(ws)
        columns = len(ws.con.execute(f'DESCRIBE "{FEATURES_TABLE}"').fetchall())
        built_as_of = ws.meta("features_as_of")
    if as_json:
        emit_json(
            {
                "table": FEATURES_TABLE,
                "rows": summary[0][1],
                "columns": columns,
                "as_of": built_as_of,
                "time_unit": unit,
                "engine": engine,
                "summary": dict(zip(_SUMMARY_KEYS, [v for _, v in summary], strict=True)),
            }
        )
        return
    console.print(
        f"[bold]{FEATURES_TABLE}[/]: {summary[0][1]:,} rows, {columns} columns · as of {built_as_of} · "
        f"time unit: {unit} · engine: {engine}"
    )
    print_table(f"Summary (recency and T in {unit})", ["statistic", "value"], summary)


@features_app.command("show")
def show(customer_id: Annotated[str, typer.Argument(help="The customer to show.")], as_json: JsonOpt = False) -> None:
    """Print every feature of one customer from the stored feature table."""
    with open_workspace(read_only=True) as ws:
        if not ws.has_table(FEATURES_TABLE):
            raise NotFound(f"{ws.path}: no feature table yet. Hint: run `shopseg features build` first.")
        as_of, unit = ws.meta("features_as_of"), ws.meta("features_time_unit")
        if "@" in customer_id:  # an e-mail address: its customer (Shopify's ids are hashes of it)
            found = ws.con.execute(
                "SELECT customer_id FROM customers WHERE lower(email) = lower(trim(?))", [customer_id]
            ).fetchall()
            if len(found) == 1:
                customer_id = str(found[0][0])
        rows = ws.con.execute(f'SELECT * FROM "{FEATURES_TABLE}" WHERE customer_id = ?', [customer_id]).df()
        if rows.empty:
            known = ws.con.execute("SELECT 1 FROM customers WHERE customer_id = ?", [customer_id]).fetchone()
            if known:
                raise NotFound(
                    f"{FEATURES_TABLE}: customer '{customer_id}' has no row as of {as_of}: the features hold the "
                    "customers known on that day (one who signed up later is not yet a customer then). Hint: "
                    "rebuild with a later date (shopseg features build --as-of YYYY-MM-DD)."
                )
            sample = [r[0] for r in ws.con.execute(f'SELECT customer_id FROM "{FEATURES_TABLE}" LIMIT 5000').fetchall()]
            raise NotFound(
                f"{FEATURES_TABLE}: no customer '{customer_id}'.{did_you_mean(customer_id, sample)}",
            )
    record = rows.iloc[0]
    if as_json:
        emit_json({"customer_id": customer_id, "as_of": as_of, "time_unit": unit, "features": record.to_dict()})
        return
    values = [(name, _plain(record[name])) for name in rows.columns]
    print_table(f"Customer {customer_id} · as of {as_of} · time unit: {unit}", ["feature", "value"], values)


def _plain(value: Any) -> Any:
    """A pandas/numpy scalar as a plain Python value (None for missing)."""
    import pandas as pd

    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def register(app: typer.Typer) -> None:
    """Add the ``features`` noun to the ``shopseg`` command."""
    app.add_typer(features_app, name="features")
