"""The dbt project (staging -> core -> marts) as Dagster assets.

dbt sources `raw.<system>__<entity>` are the raw ingest assets, so lineage runs unbroken from
a landing file to a mart. `dbt build` runs models, seeds, snapshots and tests in one pass;
every dbt test appears as an asset check on the model it tests. The warehouse has one
writer, so the dbt step holds the `duckdb` pool.
"""


import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from ..privacy.classification import require_classification
from ..resources import DUCKDB_POOL, dbt_executable
from ..settings import DBT_PROJECT_DIR, get_settings

MANIFEST_PATH = DBT_PROJECT_DIR / "target" / "manifest.json"
PARTIAL_PARSE = "partial_parse.msgpack"


def parse_dbt_project(target: str | None = None) -> Path:
    """`dbt parse`: writes target/manifest.json, which the dbt assets are built from.

    dbt parses into a folder of its own and the manifest (with dbt's partial-parse state) is then
    moved into place atomically: a process importing the definitions while another one parses
    (two builds at once, the test workers) never reads a half-written manifest.
    """
    target_dir = MANIFEST_PATH.parent
    target_dir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="parse-", dir=target_dir))
    try:
        state = target_dir / PARTIAL_PARSE
        if state.exists():
            shutil.copyfile(state, scratch / PARTIAL_PARSE)
        cmd = [dbt_executable(), "parse", "--quiet", "--project-dir", str(DBT_PROJECT_DIR),
               "--profiles-dir", str(DBT_PROJECT_DIR), "--target", target or get_settings().dbt_target,
               "--target-path", str(scratch), "--log-path", str(scratch / "logs")]
        done = subprocess.run(cmd, cwd=DBT_PROJECT_DIR, capture_output=True, text=True, env=os.environ.copy())
        if done.returncode != 0:
            raise RuntimeError(f"dbt parse failed:\n{done.stdout}\n{done.stderr}")
        for name in (PARTIAL_PARSE, "manifest.json"):  # the manifest last: its arrival means "parsed"
            if (scratch / name).exists():
                os.replace(scratch / name, target_dir / name)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return MANIFEST_PATH


def ensure_manifest() -> Path:
    if not MANIFEST_PATH.exists():
        parse_dbt_project()
    return MANIFEST_PATH


class CdpDbtTranslator(DagsterDbtTranslator):
    """Sources map to the raw ingest assets; models are keyed and grouped by their schema."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            meta = dbt_resource_props.get("meta") or {}
            if meta.get("dagster_asset_key"):
                return dg.AssetKey(list(meta["dagster_asset_key"]))
            system, sep, entity = dbt_resource_props["name"].partition("__")
            system, entity = meta.get("system", system), meta.get("entity", entity)
            # raw.<system>__<entity> is an ingest asset; raw.quarantine / raw.ingest_log are lake views
            return dg.AssetKey(["raw", system, entity] if sep else [dbt_resource_props["source_name"], system])
        schema = (dbt_resource_props.get("config") or {}).get("schema") or dbt_resource_props.get("schema")
        return dg.AssetKey([schema, dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "source":
            return "raw"
        return (dbt_resource_props.get("config") or {}).get("schema") or dbt_resource_props.get("schema")


translator = CdpDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


@dbt_assets(
    manifest=ensure_manifest(),
    dagster_dbt_translator=translator,
    pool=DUCKDB_POOL,
    name="dbt_warehouse",
)
def dbt_warehouse(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    """`dbt build` of the selected models: raw views refreshed, models built, tests run."""
    # every model column carries a sensitivity level, or nothing is built (privacy/classification.py)
    require_classification(MANIFEST_PATH)
    # unit tests are for development and CI (pytest runs them); the daily build runs models, seeds,
    # snapshots and data tests
    yield from dbt.cli(["build", "--exclude-resource-type", "unit_test"], context=context).stream()
