"""`cdp`: simulate a landing area, build the warehouse from any landing folder, backfill dates.

`cdp build` runs the same Dagster jobs, assets and checks as the UI (in-process, against the
Dagster instance in DAGSTER_HOME, so `dagster dev` shows its runs afterwards): one `ingest`
run per delivered business date, then one `transform` run for everything downstream.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from .settings import REPO_ROOT, get_settings

QUIET_RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}


# --------------------------------------------------------------------------- environment


def _configure_environment(landing: str | None, warehouse: str | None, lake: str | None) -> None:
    """Point every layer (ingest, dbt, Dagster) at the chosen folders through the environment."""
    if landing:
        os.environ["CDP_LANDING_DIR"] = str(Path(landing).expanduser().resolve())
    if warehouse:
        wh = Path(warehouse).expanduser().resolve()
        os.environ["CDP_WAREHOUSE_PATH"] = str(wh)
        if not lake and "CDP_LAKE_DIR" not in os.environ:
            lake = str(wh.parent / "lake")  # a warehouse elsewhere gets its own lake beside it
    if lake:
        os.environ["CDP_LAKE_DIR"] = str(Path(lake).expanduser().resolve())
    ensure_dagster_home()


def ensure_dagster_home() -> Path:
    """DAGSTER_HOME (default data/dagster_home) with the project's dagster.yaml in it."""
    home = Path(os.environ.get("DAGSTER_HOME") or get_settings().data_dir / "dagster_home").resolve()
    home.mkdir(parents=True, exist_ok=True)
    src = REPO_ROOT / "dagster.yaml"
    dst = home / "dagster.yaml"
    if not dst.exists() or dst.read_bytes() != src.read_bytes():
        shutil.copyfile(src, dst)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


# --------------------------------------------------------------------------- summary


@dataclass
class BuildSummary:
    rows: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    checks: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    failed_checks: list[str] = field(default_factory=list)
    failed_runs: list[str] = field(default_factory=list)
    dates: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)  # runs whose failure kept the transform from running

    def add_run(self, result, label: str) -> None:
        if not result.success:
            self.failed_runs.append(label)
        for ev in result.get_asset_materialization_events():
            mat = ev.event_specific_data.materialization
            key = mat.asset_key
            if key.path[0] != "raw" or len(key.path) != 3:
                continue
            meta = {k: v.value for k, v in mat.metadata.items()}
            if meta.get("status") != "loaded":
                continue
            name = "/".join(key.path[1:])
            r = self.rows[name]
            r["files"] += 1
            for m in ("rows_read", "rows_loaded", "rows_quarantined", "rows_suppressed"):
                r[m] += int(meta.get(m, 0))
        for ev in result.get_asset_check_evaluations():
            group = ev.asset_key.path[0]
            outcome = "passed" if ev.passed else ("failed_error" if ev.severity.value == "ERROR" else "failed_warn")
            self.checks[group][outcome] += 1
            if not ev.passed:
                self.failed_checks.append(
                    f"{'/'.join(ev.asset_key.path)}:{ev.check_name} ({ev.severity.value})"
                    + (f" [{label}]" if label else "")
                )

    def render(self, console) -> None:
        from rich.markup import escape
        from rich.table import Table

        t = Table(title="Rows per source entity", show_lines=False)
        for col in ("source", "files", "read", "loaded", "quarantined", "suppressed"):
            t.add_column(col, justify="left" if col == "source" else "right")
        total = defaultdict(int)
        for name in sorted(self.rows):
            r = self.rows[name]
            t.add_row(name, str(r["files"]), f"{r['rows_read']:,}", f"{r['rows_loaded']:,}", f"{r['rows_quarantined']:,}",
                      f"{r['rows_suppressed']:,}")
            for k, v in r.items():
                total[k] += v
        t.add_row("total", str(total["files"]), f"{total['rows_read']:,}", f"{total['rows_loaded']:,}",
                  f"{total['rows_quarantined']:,}", f"{total['rows_suppressed']:,}", style="bold")
        console.print(t)
        c = Table(title="Checks per layer")
        for col in ("layer", "passed", "failed (error)", "failed (warn)"):
            c.add_column(col, justify="left" if col == "layer" else "right")
        for group in sorted(self.checks):
            g = self.checks[group]
            c.add_row(group, str(g["passed"]), str(g["failed_error"]), str(g["failed_warn"]))
        console.print(c)
        if self.failed_checks:
            shown = sorted(set(self.failed_checks))
            console.print(f"[yellow]{len(shown)} failed checks:[/yellow]")
            for f in shown[:30]:
                console.print(f"  - {escape(f)}")
            if len(shown) > 30:
                console.print(f"  ... and {len(shown) - 30} more (see the Dagster UI)")
        if self.failed_runs:
            console.print(f"[red]failed runs: {escape(', '.join(self.failed_runs))}[/red]")
        if self.blocked:
            console.print("[red]transform not run: the failed ingest runs above carry a critical check failure or a "
                          "load error; fix the delivery (or re-deliver it) and build again[/red]")


# --------------------------------------------------------------------------- build


def _delivered_dates(landing: Path) -> list[str]:
    from .ingest.loader import scan_landing

    return sorted({d.business_date.isoformat() for d in scan_landing(landing) if d.complete})


def run_build(
    *, dates: list[str] | None = None, transform: bool = True, ingest: bool = True, console=None,
    verbose: bool = False,
) -> BuildSummary:
    """Ingest every delivered date (or `dates`) and build everything downstream, in-process."""
    import dagster as dg
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from .ingest.partitions import BUSINESS_DATE
    from .transform.dbt_assets import parse_dbt_project

    console = console or Console()
    settings = get_settings()
    manifest = parse_dbt_project(settings.dbt_target)  # the manifest always matches the models on disk
    if transform:
        from .privacy.classification import require_classification

        require_classification(manifest)  # a model column without a sensitivity level fails the build
    from .definitions import build_definitions

    defs = build_definitions(settings)
    instance = dg.DagsterInstance.get()
    todo = [] if not ingest else dates if dates is not None else _delivered_dates(settings.landing_dir)
    known = set(instance.get_dynamic_partitions(BUSINESS_DATE))
    instance.add_dynamic_partitions(BUSINESS_DATE, [d for d in todo if d not in known])
    run_config = {} if verbose else QUIET_RUN_CONFIG
    summary = BuildSummary(dates=todo)
    ingest = defs.resolve_job_def("ingest")
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=console, transient=False) as progress:
        task = progress.add_task("ingest business dates", total=len(todo))
        for d in todo:
            progress.update(task, description=f"ingest {d}")
            result = ingest.execute_in_process(instance=instance, partition_key=d, run_config=run_config,
                                               raise_on_error=False)
            summary.add_run(result, f"ingest {d}")
            progress.advance(task)
        progress.update(task, description="ingest business dates")
        if transform and summary.failed_runs:
            # a critical (blocking) check failed or a load broke: analysts never get marts built on it
            summary.blocked = list(summary.failed_runs)
        elif transform:
            t2 = progress.add_task("transform (dbt build + downstream)", total=1)
            result = defs.resolve_job_def("transform").execute_in_process(
                instance=instance, run_config=run_config, raise_on_error=False
            )
            summary.add_run(result, "transform")
            progress.advance(t2)
    return summary


def _print_where_to_look(console) -> None:
    from .quality.gx_runner import data_docs_dir

    s = get_settings()
    console.print("\n[bold]Where to look[/bold]")
    warehouse = (f"  warehouse (Spark):  tables under {s.spark_dir / 'warehouse'}, metastore {s.spark_dir / 'metastore_db'}"
                 " (CDP_ENGINE=spark; see the README, Running on Spark)\n") if s.engine == "spark" else ""
    console.print(
        warehouse +
        f"  warehouse (DuckDB): {s.warehouse_path}\n"
        f"  raw lake (Parquet): {s.raw_dir}   quarantine: {s.quarantine_dir}\n"
        f"  data quality:       {data_docs_dir() / 'index.html'} (GX Data Docs), table marts.dq_sla_daily\n"
        f"  analysts' file:     {s.analyst_warehouse_path} (masked schema `analyst` only)\n"
        f"  Dagster UI:         DAGSTER_HOME={os.environ['DAGSTER_HOME']} .venv/bin/dagster dev  ->  http://127.0.0.1:3000\n"
        f"  query a model:      .venv/bin/python -c \"import duckdb; print(duckdb.connect('{s.warehouse_path}', "
        "read_only=True).sql('select * from staging.stg_policy_admin__policies limit 5'))\"",
        soft_wrap=True, markup=False, highlight=False,
    )


def cmd_build(args: argparse.Namespace) -> int:
    from rich.console import Console

    _configure_environment(args.landing, args.warehouse, args.lake)
    console = Console()
    landing = get_settings().landing_dir
    if not landing.is_dir():
        console.print(f"[red]landing folder {landing} does not exist[/red]")
        return 2
    start = time.perf_counter()
    from .privacy.classification import UnclassifiedColumnsError

    try:
        summary = run_build(dates=args.dates, transform=not args.no_transform, ingest=not args.skip_ingest,
                            console=console, verbose=args.verbose)
    except UnclassifiedColumnsError as e:
        print(e, file=sys.stderr)
        return 1
    summary.render(console)
    console.print(f"built {len(summary.dates)} business dates in {time.perf_counter() - start:,.1f} s")
    _print_where_to_look(console)
    return 1 if summary.failed_runs else 0


def cmd_backfill(args: argparse.Namespace) -> int:
    from rich.console import Console

    _configure_environment(args.landing, args.warehouse, args.lake)
    lo, hi = date.fromisoformat(args.date_from), date.fromisoformat(args.date_to)
    dates = [d for d in _delivered_dates(get_settings().landing_dir) if lo <= date.fromisoformat(d) <= hi]
    console = Console()
    summary = run_build(dates=dates, transform=not args.no_transform, console=console, verbose=args.verbose)
    summary.render(console)
    return 1 if summary.failed_runs else 0


def cmd_simulate(args: argparse.Namespace) -> int:
    from .simulator import main as simulate_main

    argv = ["--out", args.out, "--truth", args.truth, "--persons", str(args.persons), "--days", str(args.days),
            "--seed", str(args.seed), "--noise", args.noise]
    if args.start_date:
        argv += ["--start-date", args.start_date]
    return simulate_main(argv) or 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Simulate the default dataset into data/, build it, and say where to look."""
    s = get_settings()
    sim = argparse.Namespace(out=str(s.landing_dir), truth=str(s.truth_dir), persons=args.persons, days=args.days,
                             seed=args.seed, noise="default", start_date=None)
    if s.landing_dir.exists():
        shutil.rmtree(s.landing_dir)
    rc = cmd_simulate(sim)
    if rc:
        return rc
    return cmd_build(build_parser().parse_args(["build", "--landing", str(s.landing_dir)]))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="cdp", description="Insurance customer data platform")
    sub = p.add_subparsers(dest="command", required=True)

    sim = sub.add_parser("simulate", help="write a simulated twelve-system landing area and its ground truth")
    sim.add_argument("--out", required=True, help="landing folder to write")
    sim.add_argument("--truth", required=True, help="ground-truth folder (outside the landing)")
    sim.add_argument("--persons", type=int, default=20_000)
    sim.add_argument("--days", type=int, default=30)
    sim.add_argument("--seed", type=int, default=42)
    sim.add_argument("--start-date", default=None, help="first business date, YYYY-MM-DD")
    sim.add_argument("--noise", choices=["default", "high"], default="default")
    sim.set_defaults(func=cmd_simulate)

    def add_location(sp):
        sp.add_argument("--landing", default=None, help="landing folder (default $CDP_LANDING_DIR or data/landing)")
        sp.add_argument("--warehouse", default=None, help="DuckDB file (default $CDP_WAREHOUSE_PATH or data/warehouse/cdp.duckdb)")
        sp.add_argument("--lake", default=None, help="raw lake folder (default beside the warehouse)")
        sp.add_argument("--no-transform", action="store_true", help="ingest only, skip dbt and downstream")
        sp.add_argument("--verbose", action="store_true", help="show Dagster's event log")

    b = sub.add_parser("build", help="ingest every delivered date and build everything downstream")
    add_location(b)
    b.add_argument("--dates", nargs="*", default=None, help="only these business dates (default: all delivered)")
    b.add_argument("--skip-ingest", action="store_true", help="rebuild downstream of the raw lake only")
    b.set_defaults(func=cmd_build)

    bf = sub.add_parser("backfill", help="re-ingest a range of business dates, then rebuild downstream")
    add_location(bf)
    bf.add_argument("--from", dest="date_from", required=True)
    bf.add_argument("--to", dest="date_to", required=True)
    bf.set_defaults(func=cmd_backfill)

    d = sub.add_parser("demo", help="simulate the default dataset into data/ and build it")
    d.add_argument("--persons", type=int, default=20_000)
    d.add_argument("--days", type=int, default=30)
    d.add_argument("--seed", type=int, default=42)
    d.set_defaults(func=cmd_demo)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "demo":
        ensure_dagster_home()
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
