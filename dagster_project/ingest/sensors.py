"""The landing sensor: new, late and re-delivered date folders launch the right partitions.

A (system, business date) folder needs loading when it is complete (`_SUCCESS` present) and
its delivery fingerprint differs from the one the lake's ingest log recorded for that system
and date: a new folder, a late one, or a re-delivery (same date, new content). The lake, not
the sensor cursor, is the record of what was loaded, so the sensor is right after a restart,
after `cdp build`, and after a manual backfill. Run keys carry the fingerprint, so a folder
is launched once per delivery.
"""


from collections import defaultdict
from datetime import date
from pathlib import Path

import duckdb

import dagster as dg

from ..resources import CdpPaths
from ..sources.contract import load_contract
from .assets import raw_asset_key
from .loader import scan_landing
from .partitions import BUSINESS_DATE, business_date_partitions

INGEST_JOB = "ingest"


def loaded_deliveries(lake_dir: Path) -> dict[tuple[str, str, date], str]:
    """(system, entity, business_date) -> delivery_id of the last load, from the lake's ingest log."""
    files = list((lake_dir / "ingest_log").glob("*/*/business_date=*/*.parquet"))
    if not files:
        return {}
    con = duckdb.connect()
    try:
        rows = con.execute(
            """
            select system, entity, cast(business_date as date), delivery_id
            from read_parquet(?, union_by_name = true)
            where status = 'loaded'
            qualify row_number() over (
                partition by system, entity, business_date order by loaded_at desc nulls last) = 1
            """,
            [[str(f) for f in files]],
        ).fetchall()
    finally:
        con.close()
    return {(s, e, d): i for s, e, d, i in rows}


def deliveries_to_load(paths: CdpPaths) -> list[tuple[str, date, str]]:
    """(system, business_date, delivery_id) of complete folders not yet loaded as delivered."""
    contract = load_contract()
    loaded = loaded_deliveries(paths.lake)  # (system, entity, date) -> delivery_id
    entities_by_system: dict[str, list[str]] = defaultdict(list)
    for e in contract.entities:
        entities_by_system[e.system].append(e.name)
    todo = []
    for d in scan_landing(paths.landing, contract):
        if not d.complete or d.system not in entities_by_system:
            continue
        if any(loaded.get((d.system, name, d.business_date)) != d.delivery_id for name in entities_by_system[d.system]):
            todo.append((d.system, d.business_date, d.delivery_id))
    return sorted(todo, key=lambda t: (t[1], t[0]))


@dg.sensor(
    name="landing_sensor",
    job_name=INGEST_JOB,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Launches the ingest of every complete landing folder that is new, late or re-delivered.",
)
def landing_sensor(context: dg.SensorEvaluationContext, paths: CdpPaths) -> dg.SensorResult:
    contract = load_contract()
    todo = deliveries_to_load(paths)
    known = set(context.instance.get_dynamic_partitions(BUSINESS_DATE))
    new_dates = sorted({d.isoformat() for _, d, _ in todo} - known)
    requests = [
        dg.RunRequest(
            run_key=f"{system}/{day.isoformat()}/{delivery_id}",
            partition_key=day.isoformat(),
            asset_selection=[raw_asset_key(e) for e in contract.entities_of(system)],
            tags={"system": system, "delivery_id": delivery_id},
        )
        for system, day, delivery_id in todo
    ]
    if requests:
        context.log.info(f"{len(requests)} deliveries to load, {len(new_dates)} new business dates")
    return dg.SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=[business_date_partitions.build_add_request(new_dates)] if new_dates else [],
    )
