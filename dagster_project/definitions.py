"""The one place that assembles assets, checks, jobs, schedules, sensors and resources.

`dagster dev` (from the repo root, see workspace.yaml) and `cdp build` both load `defs`.
"""

from __future__ import annotations

import dagster as dg

from .automation import daily_build_job, daily_build_schedule, ingest_job, transform_job
from .identity.assets import identity_resolution
from .ingest.assets import build_raw_assets
from .ingest.sensors import landing_sensor
from .privacy.assets import analyst_warehouse, privacy_requests
from .quality.checks import with_quality_checks
from .resources import build_resources
from .scoring.assets import churn_model, churn_retraining_schedule, churn_scores, churn_training_job
from .scoring.config import load_churn_config
from .settings import Settings, get_settings
from .tiering.rules import validate_rules
from .transform.dbt_assets import dbt_warehouse


def build_definitions(settings: Settings | None = None) -> dg.Definitions:
    settings = settings or get_settings()
    validate_rules()  # tiering rules (dbt/seeds/tiering) are rejected before any run, naming file, line and conflict
    load_churn_config()  # churn settings (scoring/churn.yaml) likewise, naming the file, key and rule
    # quality checks (GX suites, SLAs) attach to every asset defined here, mart suites as their tables appear
    return with_quality_checks(dg.Definitions(
        assets=[*build_raw_assets(), dbt_warehouse, identity_resolution, privacy_requests, analyst_warehouse,
                churn_model, churn_scores],
        jobs=[ingest_job, transform_job, daily_build_job, churn_training_job],
        schedules=[daily_build_schedule, churn_retraining_schedule],
        sensors=[landing_sensor],
        resources=build_resources(settings),
    ))


defs = build_definitions()
