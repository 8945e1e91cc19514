"""`shopseg ingest KIND FILE`: validated, atomic loading of one file into the workspace."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from shopseg.cli._common import console, exit_usage, open_workspace, print_table, progress
from shopseg.cli._output import JsonOpt, emit_json
from shopseg.errors import InvalidParameterError

__all__ = ["ingest_command", "parse_mapping", "register"]


def parse_mapping(items: list[str], option: str = "--map") -> dict[str, str]:
    """Turn ``["customer_id=cust_id", ...]`` into ``{"customer_id": "cust_id"}``.

    Examples
    --------
    >>> parse_mapping(["customer_id=cust_id", "ordered_at = Order Date"])
    {'customer_id': 'cust_id', 'ordered_at': 'Order Date'}
    """
    out: dict[str, str] = {}
    for item in items:
        canonical, sep, source = item.partition("=")
        if not sep or not canonical.strip() or not source.strip():
            raise InvalidParameterError(
                f"The '{option}' option must look like canonical={'source' if option == '--map' else 'value'} (e.g. {option} "
                f"{'customer_id=cust_id' if option == '--map' else 'quantity=1'}). Got {item!r} instead."
            )
        out[canonical.strip()] = source.strip()
    return out


def ingest_command(
    args: Annotated[
        list[str] | None,
        typer.Argument(
            help="KIND FILE (customers, orders, products, events or survey_answers, then a CSV/TSV/TXT, Parquet or "
            "JSON-lines file); with --write-spec, the store's files.",
            show_default=False,
        ),
    ] = None,
    spec: Annotated[
        Path | None,
        typer.Option("--spec", "-s", help="Load every table an import spec (YAML) describes, in one transaction."),
    ] = None,
    plan: Annotated[
        bool,
        typer.Option(
            "--plan",
            help="With --spec: show what would load (columns, samples, joins, rows, warnings) and write nothing.",
        ),
    ] = False,
    write_spec: Annotated[
        Path | None,
        typer.Option("--write-spec", help="Draft an import spec from the files given, for you to check and edit."),
    ] = None,
    preset: Annotated[
        str | None,
        typer.Option(
            "--preset",
            "-p",
            help="One file: online_retail, cdnow, cdnow_sample, shopify (orders) or shopify_customers. With --write-spec: copy a shipped "
            "spec (shopify, woocommerce, marketplace, or a one-file preset: online_retail, cdnow, cdnow_sample, "
            "shopify_orders, shopify_customers) to edit.",
        ),
    ] = None,
    spec_schema: Annotated[
        bool, typer.Option("--spec-schema", help="Print the JSON Schema of import specs (for editors) and exit.")
    ] = False,
    fmt: Annotated[
        str | None, typer.Option("--format", "-f", help="csv, parquet or jsonl (default: from the extension).")
    ] = None,
    mapping: Annotated[
        list[str] | None, typer.Option("--map", "-m", help="canonical=source column; repeatable.")
    ] = None,
    const: Annotated[
        list[str] | None,
        typer.Option("--const", help="canonical=value for every row (e.g. quantity=1); repeatable."),
    ] = None,
    encoding: Annotated[
        str, typer.Option("--encoding", help="Text encoding of CSV files: utf-8, latin-1, utf-16.")
    ] = "utf-8",
    date_format: Annotated[
        str | None,
        typer.Option("--date-format", help="strptime format of non-ISO timestamps, e.g. '%d/%m/%Y %H:%M'."),
    ] = None,
    decimal: Annotated[
        str,
        typer.Option("--decimal", help="Decimal mark of the file's numbers: '.' or ',' (European '1.234,50')."),
    ] = ".",
    existing: Annotated[
        str,
        typer.Option(
            "--existing",
            help="Orders already in the workspace: error (refuse the file), skip (load only new orders) or "
            "replace (a newer export: the file's orders replace the stored ones, with their refunds and cancellations).",
        ),
    ] = "error",
    as_json: JsonOpt = False,
) -> None:
    """Validate files and load them into the workspace, all or nothing, then print a data-quality report.

    One file: `shopseg ingest orders lines.csv`. A whole store: draft a spec with
    `shopseg ingest --write-spec store.yaml *.csv`, edit it, check it with
    `shopseg ingest --spec store.yaml --plan`, then load it with `--spec store.yaml`.
    """
    files = list(args or [])
    if spec_schema:
        import json

        from shopseg.io.spec import spec_json_schema

        typer.echo(json.dumps(spec_json_schema(), indent=2))
        return None
    if write_spec is not None:
        chosen = {"encoding": encoding} if encoding != "utf-8" else {}
        return _write_spec(write_spec, files, preset, {**chosen, **({"decimal": decimal} if decimal != "." else {})})
    if spec is not None:
        if files:
            exit_usage(f"--spec takes no KIND FILE arguments; got {files}. The files are named in the spec.")
        return _ingest_spec(spec, plan, as_json, existing)
    if plan:
        exit_usage("--plan needs --spec FILE.")
    if len(files) != 2:
        exit_usage(
            f"expected KIND FILE (e.g. shopseg ingest orders lines.csv), --spec FILE or --write-spec FILE; "
            f"got {files or 'nothing'}."
        )
    kind, file = files[0], Path(files[1])
    if existing != "error" and kind != "orders":
        exit_usage(f"--existing {existing} applies to orders (`shopseg ingest orders FILE` or --spec); got {kind}.")
    maps = parse_mapping(mapping or [])
    consts = parse_mapping(const or [], option="--const")
    if consts:
        if preset:
            exit_usage("--const cannot be combined with --preset; write an import spec (--write-spec) instead.")
        from shopseg.io.spec import parse_spec

        options = {k: v for k, v in {"format": fmt, "encoding": encoding, "date_format": date_format}.items() if v}
        if decimal != ".":
            options["decimal"] = decimal
        doc = {
            "files": {kind: {"path": str(file.resolve()), **options}},
            "tables": {kind: {"from": kind, "map": {**maps, **{k: {"const": v} for k, v in consts.items()}}}},
        }
        return _run_spec(parse_spec(doc, source="--map/--const"), plan=False, as_json=as_json, existing=existing)
    from shopseg.io import ingest

    with open_workspace() as ws, progress(transient=True) as bar:
        report = ingest(
            ws,
            kind,
            file,
            preset=preset,
            fmt=fmt,
            mapping=maps,
            encoding=encoding,
            date_format=date_format,
            decimal=decimal,
            existing=existing,
            progress=_stepper(bar, f"ingest {file.name}"),
        )
    if as_json:
        emit_json(_report_json(report))
        return
    _print_report(report)


def _stepper(bar: Any, title: str) -> Any:
    task = bar.add_task(title, total=None)

    def step(message: str) -> None:
        bar.update(task, description=message)
        if message != "done":
            console.print(f"[dim]· {message}[/]")

    return step


def _print_report(report: Any, title: str | None = None) -> None:
    title = title or f"Ingested {report.source} into {report.kind}" + (
        f" (preset {report.preset})" if report.preset else ""
    )
    print_table(title, ["data quality", "rows"], report.summary_rows())
    if report.unmapped:
        shown = ", ".join(f"{c} (looks like {g})" if g else c for c, g in report.unmapped)
        kept = " (kept as custom attributes)" if report.kind == "customers" else " (not loaded)"
        console.print(f"columns not mapped{kept}: {shown}", highlight=False, markup=False)
    _print_warnings(report.warnings)


def _print_warnings(warnings: list[str]) -> None:
    for text in warnings:
        console.print(f"[yellow]warning:[/] {escape(text)}", highlight=False)


def _write_spec(target: Path, files: list[str], preset: str | None, options: dict[str, str] | None = None) -> None:
    from shopseg.io.draft import draft_from_preset, draft_spec

    if not files:
        exit_usage("--write-spec needs the store's files, e.g. shopseg ingest --write-spec store.yaml *.csv")
    if target.exists():
        exit_usage(f"{target} exists; choose another name or delete it first (nothing was written).")
    text, notes = draft_from_preset(preset, files, target) if preset else draft_spec(files, target, **(options or {}))
    target.write_text(text, encoding="utf-8")
    console.print(f"wrote {target} ({len(files)} files); guesses to check:", highlight=False, markup=False)
    for note in notes:
        console.print(f"  - {note}", highlight=False, markup=False)
    console.print(f"next: edit it, then `shopseg ingest --spec {target} --plan`", highlight=False, markup=False)


def _ingest_spec(path: Path, plan: bool, as_json: bool = False, existing: str = "error") -> None:
    from shopseg.io.spec import load_spec

    _run_spec(load_spec(path), plan, as_json, existing)


def _report_json(report: Any) -> dict[str, Any]:
    """One table's ingest report as plain JSON (every field of :class:`shopseg.io.report.IngestReport`)."""
    return dict(report.to_dict())


def _run_spec(spec: Any, plan: bool, as_json: bool = False, existing: str = "error") -> None:
    from shopseg.io.spec_ingest import ingest_spec

    with open_workspace(read_only=False) as ws, progress(transient=True) as bar:
        result = ingest_spec(ws, spec, plan=plan, existing=existing, progress=_stepper(bar, "ingest"))
    if as_json:
        emit_json(
            {
                "plan": plan,
                "tables": [
                    {
                        **_report_json(t.report),
                        "file": t.file,
                        "columns": {name: {"from": o, "samples": list(s)} for name, (o, s) in t.columns.items()},
                        "joins": [{"file": f, "matched": m, "rows": n} for f, m, n in t.joins],
                    }
                    for t in result.tables
                ],
                "warnings": list(result.warnings),
            }
        )
        return
    for t in result.tables:
        if plan:
            rows = [(name, origin, ", ".join(samples)) for name, (origin, samples) in t.columns.items()]
            print_table(f"{t.kind} from '{t.file}': canonical columns", ["column", "from", "sample values"], rows)
        for file, matched, total in t.joins:
            console.print(
                f"  join '{file}': {matched:,} of {total:,} rows matched ({matched / max(total, 1):.1%})",
                highlight=False,
                markup=False,
            )
        verb = "would load" if plan else "loaded"
        _print_report(t.report, f"{t.kind} {verb} from '{t.file}' ({t.report.source})")
    _print_warnings(result.warnings)
    if plan:
        console.print("plan only: nothing was written. Load it with the same command without --plan.", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest_command)
