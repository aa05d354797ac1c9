"""Jobs and the daily schedule.

- `ingest`: the raw assets of one business date (the landing sensor launches it per system).
- `transform`: everything downstream of raw (dbt build, and the Python assets that follow).
- `daily_build`: ingest of one business date, then everything downstream, in one run. The
  daily schedule launches it for yesterday's business date (Asia/Shanghai) at 06:30.
"""


from datetime import timedelta
from zoneinfo import ZoneInfo

import dagster as dg

from .ingest.assets import RAW_GROUP
from .ingest.partitions import BUSINESS_DATE
from .ingest.sensors import INGEST_JOB
from .sources.contract import load_contract

BUSINESS_TZ = ZoneInfo(load_contract().timezone)

# Ingest steps are light (a file each, DuckDB parallelises inside a step): one process per run
# instead of one per step saves seconds per entity when the UI, sensor or a backfill launches it.
ingest_job = dg.define_asset_job(
    INGEST_JOB,
    selection=dg.AssetSelection.groups(RAW_GROUP),
    executor_def=dg.in_process_executor,
    description="Load one business date's delivered files into the raw lake (quarantine + reconciliation).",
)

transform_job = dg.define_asset_job(
    "transform",
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups(RAW_GROUP),
    description="Build everything downstream of the raw lake: dbt staging, core and marts, and the Python assets.",
)

daily_build_job = dg.define_asset_job(
    "daily_build",
    selection=dg.AssetSelection.all(),
    executor_def=dg.in_process_executor,
    description="The full daily build: ingest one business date, then everything downstream.",
)


@dg.schedule(
    name="daily_build_schedule",
    job=daily_build_job,
    cron_schedule="30 6 * * *",
    execution_timezone=load_contract().timezone,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every day at 06:30 Asia/Shanghai: the full build for yesterday's business date.",
)
def daily_build_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    business_date = (context.scheduled_execution_time.astimezone(BUSINESS_TZ).date() - timedelta(days=1)).isoformat()
    if not context.instance.has_dynamic_partition(BUSINESS_DATE, business_date):
        context.instance.add_dynamic_partitions(BUSINESS_DATE, [business_date])
    return dg.RunRequest(run_key=business_date, partition_key=business_date)
