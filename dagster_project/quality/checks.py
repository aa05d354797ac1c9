"""The expectation suites and SLA rules as Dagster asset checks on the assets they guard.

One multi-asset check op per layer, so that ``great_expectations`` is imported once per step
(it takes seconds) rather than once per table:

- ``raw_quality`` (partitioned by business date): per raw asset and delivered date, the
  contract-generated suite on that partition's raw Parquet (``gx_schema``,
  ``gx_required_not_null``, ``gx_vocabulary``, ``gx_optional_vocabulary``, ``gx_key_unique``)
  and the delivery SLAs from the ingest log (``sla_delivery_freshness``, ``sla_volume``).
- ``staging_quality``: per dbt staging model, its suite on the model's table (``gx_key_unique``,
  ``gx_id_validity``, ``gx_mobile_validity``, ``gx_date_ranges``, ``gx_money_non_negative``).
- ``marts_quality``: identity/core/marts suites, each attached only when every table it needs is
  an asset of the platform, and ``sla_daily`` on ``marts/dq_sla_daily``.

Severity comes from ``quality/sla.yaml``: a critical rule is an ERROR check with
``blocking=True`` (assets downstream of the guarded asset are not materialised in the same
run), a warning rule a WARN check. Checks that read the warehouse run in the ``duckdb`` pool
and open it read-only (DuckDB: while a writer holds the file, no other process can open it).
Each check records numeric metadata (success percent, unexpected counts) and the path of its
validation page in the GX Data Docs (``<data dir>/quality/data_docs/``), rebuilt every run.
"""

import warnings
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Iterable, Iterator

import dagster as dg

from ..ingest.partitions import business_date_partitions
from ..resources import DUCKDB_POOL, CdpPaths, Warehouse
from ..sources.contract import Entity, load_contract
from .batches import (
    delivery_freshness,
    ingest_logs,
    raw_batch,
    table_columns,
    volume_assessment,
    warehouse_batch,
)
from .suites import document_columns, mart_queries
from .gx_runner import GxSession, RuleOutcome, SuiteOutcome, data_docs_dir, now_parameter, suite_documents
from .thresholds import CRITICAL, SlaConfig, sla_config

GX_PREFIX = "gx_"
FRESHNESS_CHECK = "sla_delivery_freshness"
VOLUME_CHECK = "sla_volume"
SLA_DAILY_CHECK = "sla_daily"
DQ_SLA_DAILY = dg.AssetKey(["marts", "dq_sla_daily"])

RULE_DESCRIPTIONS = {
    "schema": "every required contract column is present in the delivered file",
    "required_not_null": "required values are present",
    "vocabulary": "required enum values are within the contract's vocabulary",
    "optional_vocabulary": "optional enum values are mostly within the vocabulary",
    "key_unique": "the key (with its version) is unique",
    "id_validity": "ID numbers mostly pass their check digit (GB 11643 / GB 32100)",
    "mobile_validity": "mobiles are mostly well-formed mainland mobiles",
    "date_ranges": "dates and times are plausible (not before a floor, not in the future)",
    "money_non_negative": "amounts are not negative",
    "one_row_per_customer": "one row per customer (or per key)",
    "records_resolved": "every person-bearing record is resolved or explicitly unresolvable",
    "referential_integrity": "every policy points to an existing customer",
    "output_ranges": "tiers, scores and probabilities are within their domains",
    "duplicate_rate": "the residual duplicate rate estimate is under the SLA",
}


def _severity(sla: SlaConfig, layer: str, rule: str, suite: str | None = None) -> dg.AssetCheckSeverity:
    return dg.AssetCheckSeverity.ERROR if sla.is_critical(layer, rule, suite) else dg.AssetCheckSeverity.WARN


@dataclass
class _Plan:
    """One Dagster check: an asset, a rule, and the suites whose expectations of that rule it runs."""

    asset_key: dg.AssetKey
    name: str
    layer: str
    rule: str
    suites: list[str] = field(default_factory=list)
    additional_deps: set[dg.AssetKey] = field(default_factory=set)
    critical: bool = False
    description: str = ""

    def spec(self, partitioned: bool = False) -> dg.AssetCheckSpec:
        with warnings.catch_warnings():  # partitioned check specs are "preview" in Dagster 1.13
            warnings.simplefilter("ignore")
            return self._spec(partitioned)

    def _spec(self, partitioned: bool) -> dg.AssetCheckSpec:
        return dg.AssetCheckSpec(
            self.name,
            asset=self.asset_key,
            description=self.description,
            blocking=self.critical,
            additional_deps=sorted(self.additional_deps - {self.asset_key}, key=lambda k: k.to_user_string()) or None,
            metadata={"severity": "critical" if self.critical else "warning", "rule": self.rule,
                      "suites": ", ".join(self.suites)},
            partitions_def=business_date_partitions if partitioned else None,
        )


def _describe(rule: str, critical: bool, suites: list[str]) -> str:
    what = RULE_DESCRIPTIONS.get(rule, rule)
    sev = "critical: blocks downstream assets" if critical else "warning"
    return f"GX ({', '.join(suites)}): {what} [{sev}; quality/sla.yaml]"


def _plans_for_suites(suites: Iterable[dict[str, Any]], sla: SlaConfig) -> list[_Plan]:
    plans: dict[tuple[dg.AssetKey, str], _Plan] = {}
    for doc in suites:
        layer = doc["meta"]["layer"]
        key = dg.AssetKey(doc["meta"]["guards"])
        requires = {dg.AssetKey(r) for r in doc["meta"].get("requires", [doc["meta"]["guards"]])}
        rules = list(dict.fromkeys(e["meta"]["rule"] for e in doc["expectations"]))
        for rule in rules:
            name = GX_PREFIX + rule
            plan = plans.setdefault((key, name), _Plan(key, name, layer, rule))
            plan.suites.append(doc["name"])
            plan.additional_deps |= requires
            plan.critical = plan.critical or sla.is_critical(layer, rule, doc["name"])
    for plan in plans.values():
        plan.description = _describe(plan.rule, plan.critical, plan.suites)
    return list(plans.values())


def _selected(context: dg.AssetCheckExecutionContext) -> dict[dg.AssetKey, set[str]]:
    out: dict[dg.AssetKey, set[str]] = defaultdict(set)
    for k in context.selected_asset_check_keys:
        out[k.asset_key].add(k.name)
    return out


# --------------------------------------------------------------------------- results


def _merge_rule(outcomes: list[tuple[SuiteOutcome, RuleOutcome]]) -> RuleOutcome:
    first = outcomes[0][1]
    merged = RuleOutcome(first.rule, first.severity, [], [])
    for _, ro in outcomes:
        merged.expectations += ro.expectations
        merged.not_evaluated += ro.not_evaluated
        if ro.severity == CRITICAL:
            merged.severity = CRITICAL
    return merged


def gx_check_result(asset_key: dg.AssetKey, name: str, outcomes: list[tuple[SuiteOutcome, RuleOutcome]],
                    extra: dict[str, Any] | None = None) -> dg.AssetCheckResult | None:
    """One check's result from the rule's outcomes in one or more suites; None when nothing was evaluated."""
    ro = _merge_rule(outcomes)
    if not ro.expectations:
        return None
    critical = ro.severity == CRITICAL
    failed = ro.failed
    pages = [o.data_docs_page for o, _ in outcomes if o.data_docs_page]
    metadata: dict[str, Any] = {
        "success_percent": float(ro.success_percent),
        "expectations_evaluated": len(ro.expectations),
        "expectations_failed": len(failed),
        "unexpected_count": int(ro.unexpected_count),
        "unexpected_percent_max": float(ro.max_unexpected_percent),
        "rows": int(sum(o.rows for o, _ in outcomes)),
        "severity": ro.severity,
        "suite": ", ".join(o.suite for o, _ in outcomes),
        "failures": dg.MetadataValue.json([e.describe() for e in failed[:25]]),
        "data_docs": dg.MetadataValue.path(pages[0] if pages else str(data_docs_dir() / "index.html")),
        "data_docs_index": dg.MetadataValue.path(str(data_docs_dir() / "index.html")),
    }
    if ro.not_evaluated:
        metadata["not_evaluated"] = dg.MetadataValue.json(
            [{**e.describe(), "reason": "column not delivered (see gx_schema)"} for e in ro.not_evaluated])
    metadata.update(extra or {})
    if failed:
        shown = "; ".join(
            f"{e.type.removeprefix('expect_')}({e.column or ''})"
            + (f": {e.unexpected_count} unexpected ({(e.unexpected_percent or 0):.2f}%)" if e.unexpected_count else "")
            + (f": {e.error[:120]}" if e.error else "")
            for e in failed[:5]
        )
        description = f"{len(failed)} of {len(ro.expectations)} expectations failed: {shown}"
    else:
        description = f"all {len(ro.expectations)} expectations passed"
    return dg.AssetCheckResult(
        asset_key=asset_key,
        check_name=name,
        passed=not failed,
        severity=dg.AssetCheckSeverity.ERROR if critical else dg.AssetCheckSeverity.WARN,
        metadata=metadata,
        description=description,
    )


def _observation(asset_key: dg.AssetKey, outcomes: list[SuiteOutcome], partition: str | None = None,
                 extra: dict[str, Any] | None = None) -> dg.AssetObservation:
    """Numeric quality figures on the guarded asset (the UI plots them over time)."""
    evaluated = sum(o.evaluated for o in outcomes)
    successful = sum(o.successful for o in outcomes)
    metadata: dict[str, Any] = {
        "gx_success_percent": float(100.0 * successful / evaluated) if evaluated else 100.0,
        "gx_expectations_failed": int(evaluated - successful),
        "gx_unexpected_count": int(sum(ro.unexpected_count for o in outcomes for ro in o.rules.values())),
        "gx_rows_validated": int(sum(o.rows for o in outcomes)),
    }
    metadata.update(extra or {})
    return dg.AssetObservation(asset_key=asset_key, partition=partition, metadata=metadata)


def _build_docs(context: dg.AssetCheckExecutionContext, session: GxSession | None) -> None:
    if session is None:
        return
    try:
        index = session.build_data_docs()
        context.log.info(f"GX Data Docs: {index}")
    except Exception as exc:  # noqa: BLE001 - the docs are a view; a rendering problem must not fail checks
        context.log.warning(f"GX Data Docs not rebuilt: {exc!r}")


# --------------------------------------------------------------------------- raw


def raw_plans(sla: SlaConfig | None = None) -> list[_Plan]:
    sla = sla or sla_config()
    docs = [d for d in suite_documents().values() if d["meta"]["layer"] == "raw"]
    plans = _plans_for_suites(docs, sla)
    for e in load_contract().entities:
        key = dg.AssetKey(["raw", e.system, e.name])
        due = sla.ingest.delivery_due_hours
        v = sla.thresholds.volume
        for name, rule, text in (
            (FRESHNESS_CHECK, "delivery_freshness",
             f"SLA: the delivery folder arrived within {due:g} h of its business date's end (ingest log arrived_at)"),
            (VOLUME_CHECK, "volume",
             f"SLA: rows read within {v.min_ratio:g}x..{v.max_ratio:g}x the median of the last {v.window_days} "
             f"deliveries (initial load excluded; judged from {v.min_history_days} earlier deliveries)"),
        ):
            critical = sla.is_critical("raw", rule)
            sev = "critical: blocks downstream assets" if critical else "warning"
            plans.append(_Plan(key, name, "raw", rule, [], set(), critical, f"{text} [{sev}; quality/sla.yaml]"))
    return plans


def build_raw_quality_check() -> dg.AssetChecksDefinition:
    sla = sla_config()
    plans = raw_plans(sla)
    entities = {dg.AssetKey(["raw", e.system, e.name]): e for e in load_contract().entities}

    @dg.multi_asset_check(
        specs=[p.spec(partitioned=True) for p in plans],
        can_subset=True,
        name="raw_quality",
        description="GX suites (generated from the contract) and delivery SLAs on each delivered raw partition.",
    )
    def raw_quality(context: dg.AssetCheckExecutionContext, paths: CdpPaths) -> Iterator[Any]:
        business_date = date.fromisoformat(context.partition_key)
        session: GxSession | None = None
        results: list[Any] = []
        tz = load_contract().timezone
        all_logs = ingest_logs(paths.lake)
        for key, names in sorted(_selected(context).items(), key=lambda kv: kv[0].to_user_string()):
            entity: Entity = entities[key]
            logs = all_logs.get((entity.system, entity.name), {})
            log = logs.get(business_date)
            if log is None or not log.loaded:
                context.log.info(f"{entity.qualified_name} {business_date}: not delivered, not checked")
                continue
            outcome = None
            gx_names = {n for n in names if n.startswith(GX_PREFIX)}
            if gx_names:
                suite = f"raw.{entity.qualified_name}"
                doc = suite_documents()[suite]
                columns = document_columns(doc)
                batch = raw_batch(paths.lake, entity, business_date, columns, log)
                if batch is None:
                    context.log.warning(f"{entity.qualified_name} {business_date}: logged as loaded but no raw partition")
                elif len(batch[0]) == 0 and not batch[1]:
                    # an empty file with every column: no value to judge (GX would pass every expectation
                    # vacuously); the checks are not evaluated for it rather than reported as passed
                    context.log.info(f"{entity.qualified_name} {business_date}: empty delivery, suite not run")
                else:
                    frame, absent = batch
                    session = session or GxSession()
                    outcome = session.validate(suite, frame, run_name=f"business_date={business_date}",
                                               source="raw", absent=absent)
                    for rule, ro in outcome.rules.items():
                        if GX_PREFIX + rule in gx_names:
                            r = gx_check_result(key, GX_PREFIX + rule, [(outcome, ro)])
                            if r is not None:
                                results.append(r)
            extra: dict[str, Any] = {}
            if FRESHNESS_CHECK in names:
                f = delivery_freshness(log, sla.ingest.delivery_due_hours, tz)
                if f is not None:
                    extra["delivery_lag_hours"] = float(f["delivery_lag_hours"])
                    results.append(dg.AssetCheckResult(
                        asset_key=key, check_name=FRESHNESS_CHECK, passed=f["passed"],
                        severity=_severity(sla, "raw", "delivery_freshness"),
                        metadata={"delivery_lag_hours": float(f["delivery_lag_hours"]),
                                  "due_hours": float(f["due_hours"]), "arrived_at": f["arrived_at"],
                                  "due_at": f["due_at"]},
                        description=(f"arrived {f['delivery_lag_hours']:.1f} h after the business date's end "
                                     f"(due within {f['due_hours']:g} h)"),
                    ))
            if VOLUME_CHECK in names:
                v = volume_assessment(entity, logs, business_date, sla)
                if v.get("assessed"):
                    extra["volume_ratio"] = float(v["ratio"])
                    results.append(dg.AssetCheckResult(
                        asset_key=key, check_name=VOLUME_CHECK, passed=v["passed"],
                        severity=_severity(sla, "raw", "volume"),
                        metadata={"rows_read": int(v["rows_read"]), "trailing_median": float(v["trailing_median"]),
                                  "ratio": float(v["ratio"]), "history_days": int(v["history_days"]),
                                  "min_ratio": float(v["min_ratio"]), "max_ratio": float(v["max_ratio"]),
                                  "anomaly": v["anomaly"]},
                        description=(f"{v['rows_read']} rows = {v['ratio']:.2f} x the trailing median "
                                     f"{v['trailing_median']:g} ({v['anomaly']})"),
                    ))
                else:
                    context.log.info(f"{entity.qualified_name} {business_date}: volume not judged ({v.get('reason')})")
            if outcome is not None or extra:
                results.append(_observation(key, [outcome] if outcome else [], partition=context.partition_key,
                                            extra=extra))
        _build_docs(context, session)
        yield from results

    return raw_quality


# --------------------------------------------------------------------------- staging and marts


def warehouse_plans(defined: set[dg.AssetKey], sla: SlaConfig | None = None) -> tuple[list[_Plan], list[_Plan]]:
    """(staging plans, marts plans) for the suites whose required assets are all defined."""
    sla = sla or sla_config()
    staging, marts = [], []
    for doc in suite_documents().values():
        layer = doc["meta"]["layer"]
        if layer == "raw":
            continue
        requires = {dg.AssetKey(r) for r in doc["meta"].get("requires", [doc["meta"]["guards"]])}
        if not requires <= defined or dg.AssetKey(doc["meta"]["guards"]) not in defined:
            continue  # the table is not (yet) part of the platform: no check, never a faked pass
        (staging if layer == "staging" else marts).append(doc)
    marts_plans = _plans_for_suites(marts, sla)
    if DQ_SLA_DAILY in defined:
        critical = sla.is_critical("marts", "sla_daily")
        marts_plans.append(_Plan(
            DQ_SLA_DAILY, SLA_DAILY_CHECK, "marts", "sla_daily", [], set(), critical,
            "SLA: every pass flag of the latest business date in dq_sla_daily holds, per source "
            f"[{'critical' if critical else 'warning'}; quality/sla.yaml]"))
    return _plans_for_suites(staging, sla), marts_plans


def _suites_by_asset(plans: list[_Plan]) -> dict[dg.AssetKey, list[str]]:
    out: dict[dg.AssetKey, list[str]] = defaultdict(list)
    for p in plans:
        for s in p.suites:
            if s not in out[p.asset_key]:
                out[p.asset_key].append(s)
    return out


def _is_missing_table(exc: Exception) -> bool:
    text = str(exc)
    return "does not exist" in text and ("Table" in text or "Catalog" in text or "Schema" in text)


def _run_warehouse_suites(context: dg.AssetCheckExecutionContext, warehouse: Warehouse, plans: list[_Plan],
                          layer: str, sla: SlaConfig) -> Iterator[Any]:
    selected = _selected(context)
    suites_by_asset = _suites_by_asset(plans)
    plan_by_key = {(p.asset_key, p.name): p for p in plans}
    session: GxSession | None = None
    results: list[Any] = []
    queries = mart_queries()
    # DuckDB: the warehouse, read-only. Spark: the layer's tables loaded from Spark by one job.
    reads = ["staging.*"] if layer == "staging" else ["staging.*", "identity.*", "core.*", "marts.*"]
    with warehouse.workspace(reads=reads, read_only=True) as ws:
        con = ws.con
        for key, names in sorted(selected.items(), key=lambda kv: kv[0].to_user_string()):
            gx_names = {n for n in names if n.startswith(GX_PREFIX)}
            per_rule: dict[str, list[tuple[SuiteOutcome, RuleOutcome]]] = defaultdict(list)
            outcomes: list[SuiteOutcome] = []
            for suite in suites_by_asset.get(key, []):
                doc = suite_documents()[suite]
                if layer == "staging":
                    schema, table = doc["meta"]["table"].split(".", 1)
                    existing = table_columns(con, schema, table)
                    if existing is None:
                        context.log.warning(f"{doc['meta']['table']} does not exist: {suite} not run")
                        continue
                    wanted = [c for c in document_columns(doc) if c in existing]
                    sql = f"select {', '.join(chr(34) + c + chr(34) for c in wanted) or '1 as _'} from {schema}.{table}"
                else:
                    sql = queries[suite]
                try:
                    frame = warehouse_batch(con, sql)
                except Exception as exc:  # noqa: BLE001 - a table not built yet, or not matching its suite
                    if _is_missing_table(exc):
                        context.log.info(f"{suite}: table not built yet, not run ({exc})")
                        continue
                    for rule in dict.fromkeys(e["meta"]["rule"] for e in doc["expectations"]):
                        name = GX_PREFIX + rule
                        if name in gx_names:
                            results.append(dg.AssetCheckResult(
                                asset_key=key, check_name=name, passed=False, severity=dg.AssetCheckSeverity.WARN,
                                metadata={"suite": suite, "error": str(exc)[:500]},
                                description=f"the table does not match suite {suite} (reported, not blocking): {str(exc)[:200]}",
                            ))
                    continue
                session = session or GxSession()
                outcome = session.validate(suite, frame, run_name="current", source=layer,
                                           parameters={"now": now_parameter()})
                outcomes.append(outcome)
                for rule, ro in outcome.rules.items():
                    per_rule[rule].append((outcome, ro))
            for rule, pairs in per_rule.items():
                name = GX_PREFIX + rule
                if name in gx_names and (key, name) in plan_by_key:
                    r = gx_check_result(key, name, pairs)
                    if r is not None:
                        results.append(r)
            if outcomes:
                results.append(_observation(key, outcomes))
            if SLA_DAILY_CHECK in names and key == DQ_SLA_DAILY:
                results.extend(_sla_daily_results(con, sla))
    _build_docs(context, session)
    yield from results


SLA_FIGURES = (  # dq_sla_daily columns recorded per source as numeric metadata (plotted over time)
    "delivery_lag_hours", "change_sync_rate", "volume_ratio", "required_completeness_rate",
    "contract_validity_rate", "id_validity_rate", "mobile_validity_rate", "rows_quarantined",
    "duplicate_rate_before", "duplicate_rate_after",
)
SLA_FLAGS = (
    "passes_freshness", "passes_change_sync", "passes_volume", "passes_completeness", "passes_quarantine",
    "passes_id_validity", "passes_mobile_validity", "passes_duplicate_rate",
)


def _sla_daily_results(con: Any, sla: SlaConfig) -> list[Any]:
    try:
        rows = con.execute(
            "select * from marts.dq_sla_daily where business_date = (select max(business_date) from marts.dq_sla_daily) "
            "order by source_system").fetchall()
        cols = [d[0] for d in con.description]
    except Exception:  # noqa: BLE001 - not built yet
        return []
    if not rows:
        return []
    records = [dict(zip(cols, r)) for r in rows]
    business_date = records[0]["business_date"]
    failing = {
        r["source_system"]: [f for f in SLA_FLAGS if r.get(f) is False]
        for r in records
    }
    failing = {k: v for k, v in failing.items() if v}
    figures: dict[str, Any] = {}
    for r in records:
        for f in SLA_FIGURES:
            v = r.get(f)
            if v is not None:
                figures[f"{r['source_system']}.{f}"] = float(v)
    passed_sources = sum(1 for r in records if r.get("passes_sla") is True)
    result = dg.AssetCheckResult(
        asset_key=DQ_SLA_DAILY,
        check_name=SLA_DAILY_CHECK,
        passed=not failing,
        severity=_severity(sla, "marts", "sla_daily"),
        metadata={
            "business_date": str(business_date),
            "sources": len(records),
            "sources_passing_sla": passed_sources,
            "failing_flags": dg.MetadataValue.json(failing),
            **figures,
        },
        description=(f"{business_date}: all sources within their SLAs" if not failing else
                     f"{business_date}: " + "; ".join(f"{s}: {', '.join(f.removeprefix('passes_') for f in v)}"
                                                       for s, v in sorted(failing.items()))),
    )
    observation = dg.AssetObservation(
        asset_key=DQ_SLA_DAILY,
        metadata={"business_date": str(business_date), "sources_passing_sla": passed_sources, **figures},
    )
    return [result, observation]


def _warehouse_check(name: str, plans: list[_Plan], layer: str, description: str,
                     sla: SlaConfig) -> dg.AssetChecksDefinition:
    @dg.multi_asset_check(specs=[p.spec() for p in plans], can_subset=True, name=name, pool=DUCKDB_POOL,
                          description=description)
    def _check(context: dg.AssetCheckExecutionContext, warehouse: Warehouse) -> Iterator[Any]:
        yield from _run_warehouse_suites(context, warehouse, plans, layer, sla)

    return _check


def build_warehouse_quality_checks(defined: set[dg.AssetKey]) -> list[dg.AssetChecksDefinition]:
    sla = sla_config()
    staging_plans, marts_plans = warehouse_plans(defined, sla)
    checks = []
    if staging_plans:
        checks.append(_warehouse_check("staging_quality", staging_plans, "staging",
                                       "GX suites (quality/suites.yaml) on the dbt staging models.", sla))
    if marts_plans:
        checks.append(_warehouse_check(
            "marts_quality", marts_plans, "marts",
            "GX suites on identity, core and marts tables (attached as those tables join the platform) "
            "and the daily SLA figures of dq_sla_daily.", sla))
    return checks


# --------------------------------------------------------------------------- wiring


def defined_asset_keys(defs: dg.Definitions) -> set[dg.AssetKey]:
    keys: set[dg.AssetKey] = set()
    for a in defs.assets or []:
        if isinstance(a, dg.AssetsDefinition):
            keys |= set(a.keys)
        elif isinstance(a, dg.AssetSpec):
            keys.add(a.key)
        elif hasattr(a, "key"):
            keys.add(a.key)
    return keys


def build_quality_checks(defined: set[dg.AssetKey]) -> list[dg.AssetChecksDefinition]:
    checks = []
    if any(k.path[0] == "raw" for k in defined):
        checks.append(build_raw_quality_check())
    checks += build_warehouse_quality_checks(defined)
    return checks


def with_quality_checks(defs: dg.Definitions) -> dg.Definitions:
    """`defs` plus the quality checks of every asset it defines (mart suites attach as tables appear)."""
    return dg.Definitions.merge(defs, dg.Definitions(asset_checks=build_quality_checks(defined_asset_keys(defs))))
