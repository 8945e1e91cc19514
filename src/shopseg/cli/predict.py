"""`shopseg predict`: store per-customer predictions; `shopseg predict backtest`: check them on the store's past."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import typer
from rich.markup import escape

from shopseg.cli._common import console, open_workspace, print_table
from shopseg.cli._output import JsonOpt, emit_json, records
from shopseg.config import get_setting
from shopseg.errors import InvalidParameterError, ShopsegError

__all__ = ["predict_app", "register"]

predict_app = typer.Typer(
    help="Predictions per customer (CLV, churn risk, next order) and backtests on the store's own data."
)

_MODEL = typer.Option(
    "--model", help="Purchase model behind P(alive), purchases and CLV: mbgnbd (default), bgnbd or pareto."
)
_HORIZON = typer.Option("--horizon-days", help="Horizon of expected purchases, CLV and next order, days.")
_CHURN = typer.Option("--churn-days", help="Churn = no purchase in this many days.")


def _run(
    horizon_days: int,
    churn_days: int,
    n_bootstrap: int,
    model: str = "mbgnbd",
    penalizer: float = 0.0,
    as_json: bool = False,
) -> None:
    from shopseg.models.clv.registry import MODEL_LABELS, model_key
    from shopseg.predict import PREDICTIONS_TABLE, predict_workspace

    engine = get_setting("engine")
    label = MODEL_LABELS[model_key(model)]
    with open_workspace() as ws, console.status(f"Fitting {label}, Gamma-Gamma and churn models on {engine}..."):
        df = predict_workspace(
            ws, engine, horizon_days, churn_days=churn_days, n_bootstrap=n_bootstrap, model=model, penalizer=penalizer
        )
    a = df.attrs
    if as_json:
        emit_json(_run_json(df, horizon_days, churn_days, model_key(model)))
        return
    source = (
        "churn model" if a["churn_source"] == "churn_model" else f"{label} (not enough history for the churn model)"
    )
    console.print(
        f"[bold]{PREDICTIONS_TABLE}[/]: {len(df):,} buyers · as of {a['as_of']} · horizon {horizon_days} days · "
        f"churn = no purchase in {churn_days} days, from {source} · purchase model {label} · uncertainty: {a['uncertainty']}"
    )
    if a["fallback"]:
        console.print(f"[yellow]flagged:[/] {escape(a['fallback'])}", soft_wrap=True)
    if a["warnings"]:
        console.print(f"[yellow]note:[/] {escape(a['warnings'])}", soft_wrap=True)
    if a.get("unavailable"):
        console.print(f"[yellow]unavailable:[/] {escape(a['unavailable'])} (they are empty, not zero)", soft_wrap=True)
    risk = df["churn_risk"].value_counts()
    rows: list[tuple[str, Any]] = [
        ("buyers", len(df)),
        ("expected purchases, total", float(df["expected_purchases"].sum())),
        ("CLV, total", float(df["clv"].sum())),
        ("customers whose own 80% CLV interval starts above 0", int((df["clv_p10"] > 0).sum())),
        (
            "CLV, total of the parameter band p10 / p90",
            f"{df['clv_param_p10'].sum():,.2f} / {df['clv_param_p90'].sum():,.2f}",
        ),
        ("mean P(alive)", float(df["p_alive"].mean())),
        *((f"churn risk {level}", int(risk.get(level, 0))) for level in ("high", "medium", "low")),
        ("bootstrap replicates", int(a["bootstrap_replicates"])),
    ]
    print_table("Summary", ["statistic", "value"], rows)
    top = df.nlargest(10, "clv")
    print_table(
        "Top 10 customers by CLV",
        ["customer", "clv", "clv_p10", "clv_p90", "p_alive", "churn_risk", "next_order_date"],
        [
            (
                r.customer_id,
                float(r.clv),
                float(r.clv_p10),
                float(r.clv_p90),
                float(r.p_alive),
                r.churn_risk,
                r.next_order_date.date().isoformat(),
            )
            for r in top.itertuples()
        ],
    )


@predict_app.callback(invoke_without_command=True)
def _default(ctx: typer.Context) -> None:
    """Without a verb: `shopseg predict run` with its defaults."""
    if ctx.invoked_subcommand is None:
        _run(365, 90, 30)


@predict_app.command("run")
def run(
    horizon_days: Annotated[int, _HORIZON] = 365,
    churn_days: Annotated[int, _CHURN] = 90,
    bootstrap: Annotated[
        int, typer.Option("--bootstrap", help="Bootstrap refits behind the parameter band (clv_param_p10/p90).")
    ] = 30,
    model: Annotated[str, _MODEL] = "mbgnbd",
    penalizer: Annotated[
        float,
        typer.Option("--penalizer", help="L2 penalty of the purchase and spend fits (0: maximum likelihood).", min=0.0),
    ] = 0.0,
    as_json: JsonOpt = False,
) -> None:
    """Predict every buyer's CLV with her own 80% interval, P(alive), churn risk and next order; store customer_predictions."""
    _run(horizon_days, churn_days, bootstrap, model, penalizer, as_json)


def _run_json(df: Any, horizon_days: int, churn_days: int, model: str) -> dict[str, Any]:
    """The summary ``shopseg predict run --json`` prints (the table itself is ``customer_predictions``)."""
    from shopseg.predict import PREDICTIONS_TABLE

    a = df.attrs
    risk = df["churn_risk"].value_counts()
    top = df.nlargest(10, "clv")
    cols = ["customer_id", "clv", "clv_p10", "clv_p90", "p_alive", "churn_risk", "next_order_date"]
    return {
        "table": PREDICTIONS_TABLE,
        "buyers": len(df),
        "as_of": a["as_of"],
        "horizon_days": horizon_days,
        "churn_days": churn_days,
        "purchase_model": model,
        "churn_source": a["churn_source"],
        "uncertainty": a["uncertainty"],
        "expected_purchases_total": float(df["expected_purchases"].sum()),
        "clv_total": float(df["clv"].sum()),
        "clv_param_p10_total": float(df["clv_param_p10"].sum()),
        "clv_param_p90_total": float(df["clv_param_p90"].sum()),
        "clv_interval_above_zero": int((df["clv_p10"] > 0).sum()),
        "mean_p_alive": float(df["p_alive"].mean()),
        "churn_risk": {level: int(risk.get(level, 0)) for level in ("high", "medium", "low")},
        "bootstrap_replicates": int(a["bootstrap_replicates"]),
        "top_clv": records(top[cols]),
        "notes": [m for m in (a["fallback"], a["warnings"], a.get("unavailable")) if m],
    }


def _purchase_dates(
    engine: Any, calibration_end: str | None, holdout_days: int | None
) -> tuple[dt.date, dt.date | None]:
    from shopseg.features.asof import parse_date
    from shopseg.models.churn.labels import latest_order_date
    from shopseg.predict import default_calibration_end

    if holdout_days is not None and holdout_days < 1:
        raise InvalidParameterError(f"The '--holdout-days' option must be an int >= 1. Got {holdout_days} instead.")
    if calibration_end is None:
        return default_calibration_end(engine, holdout_days), None
    cal = parse_date(calibration_end, "calibration_end")
    last = latest_order_date(engine)
    end = last if holdout_days is None else cal + dt.timedelta(days=holdout_days)
    if not cal < end <= last:
        raise InvalidParameterError(
            f"The '--calibration-end' option must leave a holdout inside the data (orders end on {last}). "
            f"Got calibration end {cal}, holdout end {end} instead."
        )
    return cal, end


@predict_app.command("backtest")
def backtest(
    calibration_end: Annotated[
        str | None,
        typer.Option("--calibration-end", help="Last calibration day, YYYY-MM-DD (default: see --holdout-days)."),
    ] = None,
    holdout_days: Annotated[
        int | None,
        typer.Option(
            "--holdout-days", help="Holdout length in days (default: to the last order; half the history, max 365)."
        ),
    ] = None,
    churn_days: Annotated[int, _CHURN] = 90,
    model: Annotated[str, _MODEL] = "mbgnbd",
    as_json: JsonOpt = False,
) -> None:
    """Calibrate on the past, predict the holdout: purchases per frequency group, interval coverage, churn AUC vs baselines."""
    from shopseg.engine import get_engine
    from shopseg.models.churn import churn_backtest
    from shopseg.models.clv.registry import MODEL_LABELS, model_key
    from shopseg.predict import purchase_backtest

    if calibration_end is not None:
        from shopseg.features.asof import parse_date

        parse_date(calibration_end, "calibration_end")
    with open_workspace(read_only=True) as ws:
        engine = get_engine(ws, get_setting("engine"))
        cal, end = _purchase_dates(engine, calibration_end, holdout_days)
        key = model_key(model)
        with console.status(f"Purchase backtest ({MODEL_LABELS[key]})..."):
            pb = purchase_backtest(engine, cal, end, model=key)
        if not as_json:
            _print_purchases(pb)
        churn_error = None
        try:
            with console.status("Churn backtest (gradient boosting vs baselines)..."):
                cb = churn_backtest(engine, calibration_end, churn_days, purchase_model=key)
        except ShopsegError as exc:
            cb, churn_error = None, str(exc)
    if as_json:
        emit_json(_backtest_json(pb, cb, churn_error))
        return
    if cb is None:
        console.print(f"[yellow]churn backtest not run:[/] {churn_error}", soft_wrap=True)
        return
    _print_churn(cb)


def _backtest_json(pb: Any, cb: Any, churn_error: str | None) -> dict[str, Any]:
    """What ``shopseg predict backtest --json`` prints: both backtests' info, tables and verdicts."""
    purchases = {
        "info": pb.info,
        "groups": records(pb.groups),
        "verdict": pb.verdict(),
        "bias": pb.bias_line(),
        "coverage": list(pb.coverage_lines()),
    }
    churn: dict[str, Any] | None = None
    if cb is not None:
        metrics = cb.metrics.reset_index(names="score")
        churn = {"info": cb.info, "metrics": records(metrics), "verdicts": list(cb.verdicts())}
    return {"purchases": purchases, "churn": churn, "churn_error": churn_error}


def _print_purchases(pb: Any) -> None:
    from shopseg.models.clv.registry import MODEL_LABELS

    i = pb.info
    label = MODEL_LABELS[i["model"]]
    console.print(
        f"[bold]Purchase backtest[/]: calibration to {i['calibration_end']}, holdout to {i['observation_end']} "
        f"({i['holdout_days']} days) · {i['customers']:,} customers"
    )
    print_table(
        "Holdout purchases per customer, by repeat purchases in calibration",
        ["calibration repeat purchases", "customers", "actual", label, "naive", "actual total", f"{label} total"],
        [
            (
                r.group,
                int(r.customers),
                float(r.actual_mean),
                float(r.predicted_mean),
                float(r.naive_mean),
                int(r.actual_total),
                float(r.predicted_total),
            )
            for r in pb.groups.itertuples()
        ],
    )
    console.print(pb.verdict())
    console.print(pb.bias_line())
    for line in pb.coverage_lines():
        console.print(line)
    for note in pb.info["warnings"]:
        console.print(f"[yellow]note:[/] {note}", soft_wrap=True)


def _print_churn(cb: Any) -> None:
    i = cb.info
    console.print(
        f"[bold]Churn backtest[/]: churn = no purchase in {i['horizon_days']} days · trained on cutoff {i['train_cutoff']} "
        f"({i['train_customers']:,} buyers), tested on cutoff {i['test_cutoff']} ({i['test_customers']:,} buyers, "
        f"{100 * i['test_churn_rate']:.1f}% churned)"
    )
    from shopseg.models.clv.registry import MODEL_LABELS

    label = MODEL_LABELS[i["purchase_model"]]
    names = {
        "churn_model": "churn model (gradient boosting)",
        "p_alive": f"{label} 1 - P(alive)",
        "no_purchase": f"{label} P(no purchase in {i['horizon_days']} days)",
        "recency": "recency only",
    }
    print_table(
        "Churn scores on the test cutoff",
        ["score", "AUC", "Brier"],
        [(names[k], float(r.auc), float(r.brier)) for k, r in cb.metrics.iterrows()],
    )
    by_model = " · ".join(f"{MODEL_LABELS[k]} {v:.3f}" for k, v in i["p_alive_auc"].items())
    console.print(f"1 - P(alive) AUC by purchase model (--model): {by_model}")
    for line in cb.verdicts():
        console.print(line)


def register(app: typer.Typer) -> None:
    """Add the ``predict`` noun to the ``shopseg`` command."""
    app.add_typer(predict_app, name="predict")
