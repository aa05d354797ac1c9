"""The committed dbt sources (and their meta macro) are exactly what the contract generates."""

from __future__ import annotations

import yaml

from dagster_project.sources import dbt_sources
from dagster_project.sources.contract import load_contract


def test_committed_generated_files_match_the_contract():
    for path, text in dbt_sources.outputs().items():
        assert path.exists(), f"{path} missing: run python -m dagster_project.sources.dbt_sources"
        assert path.read_text(encoding="utf-8") == text, (
            f"{path} is stale: run python -m dagster_project.sources.dbt_sources and commit the result"
        )


def test_every_contract_entity_is_a_raw_source_with_typed_meta():
    contract = load_contract()
    doc = yaml.safe_load(dbt_sources.render(contract))
    (source,) = doc["sources"]
    assert source["name"] == "raw" and source["schema"] == "raw"
    tables = {t["name"]: t for t in source["tables"]}
    assert set(tables) == {e.qualified_name for e in contract.entities} | {"quarantine", "ingest_log"}
    for entity in contract.entities:
        table = tables[entity.qualified_name]
        meta = table["config"]["meta"]
        assert (meta["system"], meta["entity"], meta["format"]) == (entity.system, entity.name, entity.format)
        assert [c["name"] for c in meta["contract_columns"]] == entity.column_names
        assert table["loaded_at_field"] == "_loaded_at"
        assert table["config"]["freshness"]["error_after"]["count"] > table["config"]["freshness"]["warn_after"]["count"]
        raw_types = {c["raw_type"] for c in meta["contract_columns"]}
        if entity.format != "parquet":
            assert raw_types == {"varchar"}
        assert [c["name"] for c in table["columns"]] == entity.column_names + list(dbt_sources.LINEAGE_COLUMNS)
