"""The synthetic twelve-system landing area and its ground truth.

Public API
----------
``simulate(out_dir, truth_dir, persons, days, seed, start_date=date(2025, 10, 1), noise="default")``
    writes ``<out>/<system>/<YYYY-MM-DD>/<entity file>`` for every system of the contract and
    every business date from ``start_date`` for ``days`` days, plus the truth under
    ``truth_dir``; returns the summary also written to ``<truth>/manifest.json``.
``main(argv)`` / ``python -m dagster_project.simulator --out DIR --truth DIR --persons N
--days D --seed S [--start-date YYYY-MM-DD] [--noise default|high]``.

Everything about files (names, formats, encodings, delimiters, column order and formats)
comes from the contract (``dagster_project/sources/contract.yaml``). The world behind the
records (people, households, enterprises, policies, the churn process) is in ``world.py``;
each system's records are in ``records.py`` (history depths in its docstring); folders,
arrival times, re-deliveries and defects in ``deliver.py``; the truth files in ``truth.py``.

Deterministic: the same arguments give byte-identical files and the same mtimes.
"""

from __future__ import annotations

import json
import shutil
import time
from datetime import date
from pathlib import Path

import duckdb
import numpy as np

from dagster_project.sources.contract import load_contract

from . import truth as T
from .calendar import Window, epoch_day, to_date
from .deliver import EntityWriter, Plan, finish_folders, iso_local
from .records import APP_EVENT_HISTORY_DAYS, HISTORY_MONTHS, SourceRecords
from .world import POLICY_HISTORY_YEARS, SIGNAL_HISTORY_MONTHS

__all__ = ["simulate", "main"]

NOISE_LEVELS = ("default", "high")


def simulate(out_dir, truth_dir, persons: int, days: int, seed: int,
             start_date: date = date(2025, 10, 1), noise: str = "default") -> dict:
    """Write the landing area and the truth; return the manifest (a dict)."""
    if noise not in NOISE_LEVELS:
        raise ValueError(f"noise must be one of {NOISE_LEVELS}, not {noise!r}")
    if persons < 50 or days < 1:
        raise ValueError("need at least 50 persons and 1 day")
    started = time.perf_counter()
    contract = load_contract()
    out, truth = Path(out_dir), Path(truth_dir)
    for system in contract.systems:
        shutil.rmtree(out / system, ignore_errors=True)
    shutil.rmtree(truth / "superseded", ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    truth.mkdir(parents=True, exist_ok=True)

    window = Window(epoch_day(start_date), days)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    world = SourceRecords(seed, persons, window, noise, con)
    plan = Plan(contract, window, seed, noise)
    defects: list[dict] = []
    person_parts = []
    row_counts: dict[str, int] = {}
    timings = {"world_s": round(time.perf_counter() - started, 2)}
    for entity in contract.entities:
        t0 = time.perf_counter()
        table = getattr(world, f"{entity.system}__{entity.name}")()
        world.note_ids_held(entity.qualified_name, table)
        missing = [c for c in entity.column_names if c not in table.column_names]
        if missing:
            raise RuntimeError(f"{entity.qualified_name}: the simulator produced no {missing}")
        writer = EntityWriter(con, plan, entity, table, out, truth, seed)
        defects += writer.write_all()
        part = writer.person_records()
        if part is not None:
            person_parts.append(part)
        row_counts[entity.qualified_name] = len(writer.table)
        timings[entity.qualified_name + "_s"] = round(time.perf_counter() - t0, 2)
        del table, writer
    finish_folders(plan, out, truth)

    t0 = time.perf_counter()
    records = T.person_records_table(world, person_parts)
    T.write_parquet(truth / "person_records.parquet", records)
    T.write_parquet(truth / "persons.parquet", T.persons_table(world))
    T.write_parquet(truth / "households.parquet", T.households_table(world))
    T.write_parquet(truth / "enterprises.parquet", T.enterprises_table(world))
    churn = T.churn_events_table(world)
    T.write_parquet(truth / "churn_events.parquet", churn)
    risk = T.policy_risk_table(world)
    T.write_parquet(truth / "policy_risk.parquet", risk)
    timings["truth_s"] = round(time.perf_counter() - t0, 2)

    for f in plan.folders.values():
        if f.redelivered_ms is not None:
            defects.append(_folder_defect("redelivery", f, superseded_dir=f"superseded/{f.system}/{f.date}",
                                          superseded_rows=f.superseded, first_arrival_at=iso_local(f.arrival_ms),
                                          arrival_at=iso_local(f.redelivered_ms)))
        if f.late:
            defects.append(_folder_defect("late_folder", f, arrival_at=iso_local(f.arrival_ms)))
    person_rows = len(records)
    con.register("_records", records)
    distinct, multi_record, multi_system = con.sql("""
        SELECT count(*), count(*) FILTER (WHERE n > 1), count(*) FILTER (WHERE s > 1)
        FROM (SELECT person_id, count(*) AS n, count(DISTINCT source_system) AS s FROM _records GROUP BY 1)
    """).fetchall()[0]
    manifest = {
        "generator": "dagster_project.simulator",
        "parameters": {"persons": persons, "days": days, "seed": seed, "start_date": start_date.isoformat(),
                       "noise": noise},
        "window": {"first_business_date": start_date.isoformat(),
                   "last_business_date": to_date(window.end - 1).isoformat(),
                   "signals_from": to_date(world.h0).isoformat()},
        "history": {"policies_years": POLICY_HISTORY_YEARS, "signal_months": SIGNAL_HISTORY_MONTHS,
                    "app_events_days": APP_EVENT_HISTORY_DAYS, **{f"{k}_months": v for k, v in HISTORY_MONTHS.items()}},
        "systems": {s: {"first_business_date": to_date(plan.first_day[s]).isoformat(),
                        "folders": len(plan.days_of(s))} for s in contract.systems},
        "row_counts": row_counts,
        "total_rows": int(sum(row_counts.values())),
        "folders": [{"system": f.system, "business_date": f.date,
                     "arrival_at": iso_local(f.redelivered_ms if f.redelivered_ms is not None else f.arrival_ms),
                     "late": f.late, "redelivered": f.redelivered_ms is not None, "files": f.files}
                    for f in sorted(plan.folders.values(), key=lambda f: (f.system, f.day))],
        "defects": defects,
        "truth": {"person_records": person_rows, "distinct_parties": distinct,
                  "redundancy": round(1 - distinct / person_rows, 4) if person_rows else 0.0,
                  "parties_in_several_records": multi_record, "parties_in_several_systems": multi_system,
                  "persons": persons, "households": int(len(np.unique(world.people.household))),
                  "enterprises": world.ent.n, "churn_events": len(churn), "policy_risk_rows": len(risk)},
    }
    with open(truth / "manifest.json", "w", encoding="utf-8") as fh:
        json.dump(manifest, fh, ensure_ascii=False, indent=1, sort_keys=False)
    con.close()
    manifest["timings"] = {**timings, "total_s": round(time.perf_counter() - started, 2)}
    return manifest


def _folder_defect(kind: str, f, **extra) -> dict:
    return {"kind": kind, "system": f.system, "entity": None, "business_date": f.date,
            "file": f"{f.system}/{f.date}", "row_number": None, "column": None, **extra}


def main(argv: list[str] | None = None) -> int:
    """The command line (`python -m dagster_project.simulator`, reused by `cdp simulate`)."""
    from .__main__ import build_parser

    args = build_parser().parse_args(argv)
    summary = simulate(args.out, args.truth, args.persons, args.days, args.seed,
                       start_date=args.start_date, noise=args.noise)
    t = summary["truth"]
    print(f"wrote {summary['total_rows']:,} rows for {args.persons:,} persons x {args.days} days to {args.out} "
          f"in {summary['timings']['total_s']} s; {len(summary['defects'])} defects; "
          f"{t['person_records']:,} person records ({t['redundancy']:.0%} redundant); truth in {args.truth}")
    return 0
