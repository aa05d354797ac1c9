"""The expectation suites (GX 1.x JSON in ``expectations/``) and the dbt quality config, generated.

    python -m dagster_project.quality.suites          # (re)writes every generated file
    python -m dagster_project.quality.suites --check  # exits 1 when a committed file is stale

Writes

- ``expectations/raw/<system>__<entity>.json``: one suite per contract entity, generated from
  ``sources/contract.yaml`` (the contract is described once; the suites restate nothing):
  required columns present (rule ``schema``), required values present (``required_not_null``),
  enum values within the vocabulary (``vocabulary``; optional enums: ``optional_vocabulary``
  with ``mostly``), key + version columns unique within one delivery (``key_unique``).
- ``expectations/staging/<model>.json`` and ``expectations/marts/<name>.json``: from the compact,
  hand-written ``quality/suites.yaml``.
- ``dbt/macros/quality/dq_config.sql``: the SLA thresholds (``quality/sla.yaml``) and the
  contract's person-bearing records, as a macro the ``dq_sla_daily`` model reads.

Every expectation carries ``meta.rule``; its severity (critical / warning) is *not* written
into the suites: it is looked up in ``quality/sla.yaml`` when the suite runs.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from ..settings import DBT_PROJECT_DIR, EXPECTATIONS_DIR
from ..sources.contract import Contract, Entity, load_contract
from .thresholds import SlaConfig, sla_config
from ..sources.generated import sync_generated_files

SUITES_YAML = Path(__file__).with_name("suites.yaml")
DQ_CONFIG_MACRO = DBT_PROJECT_DIR / "macros" / "quality" / "dq_config.sql"
GENERATOR = "python -m dagster_project.quality.suites"

# The parameter a date-range ceiling of `now` becomes (the runner passes now + 1 day).
NOW_PARAMETER = "now"


@dataclass(frozen=True)
class SuiteSpec:
    """One generated suite: where it is written and which asset its check guards."""

    name: str  # e.g. raw.policy_admin__policies, staging.stg_claims__claims, marts.customer_tier
    layer: str  # raw | staging | marts
    path: Path
    guards: tuple[str, ...]  # asset key path of the guarded asset
    requires: tuple[tuple[str, ...], ...]  # asset keys that must be defined for the check to attach
    document: dict[str, Any]

    @property
    def rules(self) -> list[str]:
        seen: list[str] = []
        for e in self.document["expectations"]:
            if e["meta"]["rule"] not in seen:
                seen.append(e["meta"]["rule"])
        return seen

    @property
    def columns(self) -> list[str]:
        return document_columns(self.document)


def document_columns(document: dict[str, Any]) -> list[str]:
    """Every column an expectation of a suite document reads, in first-use order."""
    out: list[str] = []
    for e in document["expectations"]:
        kw = e["kwargs"]
        for c in ([kw["column"]] if "column" in kw else []) + list(kw.get("column_list", [])):
            if c not in out:
                out.append(c)
    return out


def _expectation(rule: str, type_: str, **kwargs: Any) -> dict[str, Any]:
    return {"type": type_, "kwargs": kwargs, "meta": {"rule": rule}}


# --------------------------------------------------------------------------- raw (from the contract)


def raw_suite_document(entity: Entity, sla: SlaConfig) -> dict[str, Any]:
    required = [c for c in entity.columns if c.required or c.name in entity.key]
    exps: list[dict[str, Any]] = [
        # required columns present (more may be: optional ones, schema drift)
        _expectation("schema", "expect_table_columns_to_match_set", column_set=[c.name for c in required],
                     exact_match=False),
    ]
    exps += [_expectation("required_not_null", "expect_column_values_to_not_be_null", column=c.name) for c in required]
    for c in entity.columns:
        if c.type != "enum":
            continue
        if c in required:
            exps.append(_expectation("vocabulary", "expect_column_values_to_be_in_set", column=c.name,
                                     value_set=list(c.values or ())))
        else:
            exps.append(_expectation("optional_vocabulary", "expect_column_values_to_be_in_set", column=c.name,
                                     value_set=list(c.values or ()),
                                     mostly=sla.thresholds.optional_vocabulary_min_rate))
    unique = list(dict.fromkeys([*entity.key, *entity.version_columns]))
    if len(unique) == 1:
        exps.append(_expectation("key_unique", "expect_column_values_to_be_unique", column=unique[0]))
    else:
        exps.append(_expectation("key_unique", "expect_compound_columns_to_be_unique", column_list=unique))
    return {
        "name": f"raw.{entity.qualified_name}",
        "meta": {
            "layer": "raw",
            "table": f"raw.{entity.qualified_name}",
            "guards": ["raw", entity.system, entity.name],
            "batch": "the raw Parquet of one business-date partition (one delivered file); text values "
                     "trimmed as the contract judges them; columns the file did not deliver are absent",
            "key": list(entity.key),
            "version_columns": list(entity.version_columns),
            "generated_from": "dagster_project/sources/contract.yaml",
            "generated_by": GENERATOR,
        },
        "expectations": exps,
    }


# --------------------------------------------------------------------------- staging and marts (suites.yaml)


@lru_cache(maxsize=1)
def _suites_yaml() -> dict[str, Any]:
    return yaml.safe_load(SUITES_YAML.read_text(encoding="utf-8"))


def staging_suite_document(model: str, spec: dict[str, Any], sla: SlaConfig) -> dict[str, Any]:
    t = sla.thresholds
    unknown = set(spec) - {"key", "id_validity", "mobile_validity", "date_ranges", "money_non_negative"}
    if unknown:
        raise ValueError(f"{SUITES_YAML.name}: staging.{model}: unknown keys {sorted(unknown)}")
    key = list(spec["key"])
    exps = [_expectation("key_unique", "expect_column_values_to_not_be_null", column=c) for c in key]
    if len(key) == 1:
        exps.append(_expectation("key_unique", "expect_column_values_to_be_unique", column=key[0]))
    else:
        exps.append(_expectation("key_unique", "expect_compound_columns_to_be_unique", column_list=key))
    for c in spec.get("id_validity") or []:
        exps.append(_expectation("id_validity", "expect_column_values_to_be_in_set", column=c, value_set=[True],
                                 mostly=t.id_validity_min_rate))
    for c in spec.get("mobile_validity") or []:
        exps.append(_expectation("mobile_validity", "expect_column_values_to_be_in_set", column=c, value_set=[True],
                                 mostly=t.mobile_validity_min_rate))
    for c, (floor, ceiling) in (spec.get("date_ranges") or {}).items():
        # GX reads bounds as date/datetime: ISO datetimes compare with date and timestamp columns alike
        kwargs: dict[str, Any] = {"column": c, "min_value": f"{floor}T00:00:00"}
        if ceiling == "now":
            kwargs["max_value"] = {"$PARAMETER": NOW_PARAMETER}
        elif ceiling is not None:
            kwargs["max_value"] = f"{ceiling}T00:00:00"
        exps.append(_expectation("date_ranges", "expect_column_values_to_be_between", **kwargs))
    for c in spec.get("money_non_negative") or []:
        exps.append(_expectation("money_non_negative", "expect_column_values_to_be_between", column=c, min_value=0))
    return {
        "name": f"staging.{model}",
        "meta": {
            "layer": "staging",
            "table": f"staging.{model}",
            "guards": ["staging", model],
            "batch": "the whole dbt model (current version of every key); times in local time (Asia/Shanghai)",
            "generated_from": "dagster_project/quality/suites.yaml",
            "generated_by": GENERATOR,
        },
        "expectations": exps,
    }


def _resolve_thresholds(value: Any, sla: SlaConfig) -> Any:
    """`{threshold: name}` -> the SLA threshold's value (recursively)."""
    if isinstance(value, dict):
        if set(value) == {"threshold"}:
            return sla.as_dict()[value["threshold"]]
        return {k: _resolve_thresholds(v, sla) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_thresholds(v, sla) for v in value]
    return value


def mart_suite_document(name: str, spec: dict[str, Any], sla: SlaConfig) -> dict[str, Any]:
    exps = []
    for e in spec["expectations"]:
        if e["rule"] not in sla.severity["marts"]:
            raise ValueError(f"{SUITES_YAML.name}: marts.{name}: rule {e['rule']!r} has no severity in sla.yaml")
        exps.append(_expectation(e["rule"], e["type"], **_resolve_thresholds(e["kwargs"], sla)))
    return {
        "name": name,
        "meta": {
            "layer": "marts",
            "table": name.split("__")[0],
            "guards": list(spec["guards"]),
            "requires": [list(r) for r in spec["requires"]],
            "batch": " ".join(spec["query"].split()),
            "generated_from": "dagster_project/quality/suites.yaml",
            "generated_by": GENERATOR,
        },
        "expectations": exps,
    }


# --------------------------------------------------------------------------- all suites


def build_suites(contract: Contract | None = None, sla: SlaConfig | None = None) -> list[SuiteSpec]:
    contract = contract or load_contract()
    sla = sla or sla_config()
    doc = _suites_yaml()
    out: list[SuiteSpec] = []
    for e in contract.entities:
        d = raw_suite_document(e, sla)
        key = ("raw", e.system, e.name)
        out.append(SuiteSpec(d["name"], "raw", EXPECTATIONS_DIR / "raw" / f"{e.qualified_name}.json", key, (key,), d))
    for model, spec in doc["staging"].items():
        d = staging_suite_document(model, spec, sla)
        key = ("staging", model)
        out.append(SuiteSpec(d["name"], "staging", EXPECTATIONS_DIR / "staging" / f"{model}.json", key, (key,), d))
    for name, spec in doc["marts"].items():
        d = mart_suite_document(name, spec, sla)
        out.append(SuiteSpec(name, "marts", EXPECTATIONS_DIR / "marts" / f"{name}.json", tuple(spec["guards"]),
                             tuple(tuple(r) for r in spec["requires"]), d))
    for s in out:
        for rule in s.rules:
            sla.severity_of(s.layer, rule, s.name)  # every rule has a severity (KeyError otherwise)
    return out


def suite_json(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def mart_queries() -> dict[str, str]:
    return {name: spec["query"] for name, spec in _suites_yaml()["marts"].items()}


# --------------------------------------------------------------------------- dbt quality config


def _record_id_sql(template: str) -> str:
    """`{policy_no}:holder` -> `cast(policy_no as string) || ':holder'` (portable SQL)."""
    parts: list[str] = []
    rest = template
    while rest:
        start = rest.find("{")
        if start < 0:
            parts.append("'" + rest.replace("'", "''") + "'")
            break
        if start > 0:
            parts.append("'" + rest[:start].replace("'", "''") + "'")
        end = rest.index("}", start)
        parts.append(f"cast({rest[start + 1:end]} as string)")
        rest = rest[end + 1:]
    return " || ".join(parts)


def dq_config(contract: Contract | None = None, sla: SlaConfig | None = None) -> dict[str, Any]:
    """What dq_sla_daily needs: thresholds, entities, and the person-bearing records of each raw table."""
    contract = contract or load_contract()
    sla = sla or sla_config()
    entities = {}
    for e in contract.entities:
        people = []
        for p in e.person_records:
            a = p.attributes
            people.append({
                "role": p.role,
                "record_id_sql": _record_id_sql(p.record_id),
                "id_no": a.get("id_no"),
                "id_type": a.get("id_type"),
                "mobile": a.get("mobile"),
                "id_no_sha256": a.get("id_no_sha256"),
                "unionid": a.get("unionid"),
                "enterprise_column": (p.party_type_from or {}).get("column"),
                "enterprise_values": list((p.party_type_from or {}).get("enterprise_values") or []),
                "identifiable_when_any": list(p.identifiable_when_any or []),
            })
        entities[e.qualified_name] = {
            "system": e.system,
            "entity": e.name,
            "delivered_on_day_of_month": e.delivered_on_day_of_month,
            "op_column": e.op_column,
            "person_records": people,
        }
    return {"thresholds": sla.as_dict(), "systems": sorted(contract.systems), "entities": entities}


def dq_config_macro(contract: Contract | None = None, sla: SlaConfig | None = None) -> str:
    payload = json.dumps(dq_config(contract, sla), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return (
        f"{{#- GENERATED by `{GENERATOR}` from dagster_project/quality/sla.yaml and\n"
        "    dagster_project/sources/contract.yaml. Do not edit by hand.\n"
        "    dq_config() -> {thresholds, systems, entities: {table: {system, entity,\n"
        "    delivered_on_day_of_month, op_column, person_records: [...]}}}. -#}\n"
        "{% macro dq_config() -%}\n"
        f"    {{{{ return(fromjson('{payload.replace(chr(39), chr(92) + chr(39))}')) }}}}\n"
        "{%- endmacro %}\n"
    )


def outputs() -> dict[Path, str]:
    files = {s.path: suite_json(s.document) for s in build_suites()}
    files[DQ_CONFIG_MACRO] = dq_config_macro()
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when a committed file differs")
    args = parser.parse_args(argv)
    return sync_generated_files(outputs(), check=args.check, generator=GENERATOR)


if __name__ == "__main__":
    sys.exit(main())
