"""Great Expectations 1.x, called directly (dagster-ge does not support GX 1.x).

GX validates DuckDB data through pandas batches here: its SQL route through duckdb-engine
returns empty results (GX issues 10738, 11579), so every batch is a DataFrame (the raw Parquet
of one partition, or a read-only query of the warehouse) validated by a pandas data source of
an ephemeral context. The context keeps its validation results on disk and builds the Data Docs
site as static HTML, both under ``<data dir>/quality/``:

    <data dir>/quality/data_docs/index.html     the site (suites, and the latest validations)
    <data dir>/quality/gx/validations/...       validation results (JSON): the latest per batch,
                                                for the latest 14 batches (raw: business dates)

``great_expectations`` takes seconds to import: it is imported lazily, once per process, by
:class:`GxSession`; importing this module is cheap.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

from ..settings import EXPECTATIONS_DIR, get_settings
from .thresholds import CRITICAL, sla_config

KEEP_VALIDATIONS_PER_BATCH = 1  # validations kept per suite and batch (raw: business date); older pruned
KEEP_BATCHES_PER_SUITE = 14  # batches kept per suite (raw: the latest business dates)


def quality_dir() -> Path:
    """``<data dir>/quality`` (CDP_DATA_DIR, default ``data/``)."""
    return get_settings().data_dir / "quality"


def data_docs_dir() -> Path:
    return quality_dir() / "data_docs"


def validations_dir() -> Path:
    return quality_dir() / "gx" / "validations"


# --------------------------------------------------------------------------- suites on disk


def load_suite_documents() -> dict[str, dict[str, Any]]:
    """Every committed suite (expectations/<layer>/*.json) by name."""
    docs = {}
    for path in sorted(EXPECTATIONS_DIR.glob("*/*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        docs[doc["name"]] = doc
    return docs


@lru_cache(maxsize=1)
def suite_documents() -> dict[str, dict[str, Any]]:
    return load_suite_documents()


def stale_suites() -> list[str]:
    """Committed suite files that differ from what the generator writes now (empty when in sync)."""
    from .suites import outputs

    return [str(p) for p, text in outputs().items()
            if p.suffix == ".json" and (not p.exists() or p.read_text(encoding="utf-8") != text)]


# --------------------------------------------------------------------------- outcomes


@dataclass
class ExpectationOutcome:
    type: str
    column: str | None
    rule: str
    success: bool
    element_count: int | None = None
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    observed_value: Any = None
    partial_unexpected: list[Any] = field(default_factory=list)
    error: str | None = None
    details: dict[str, Any] | None = None

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"expectation": self.type}
        if self.column:
            out["column"] = self.column
        for k in ("element_count", "unexpected_count", "unexpected_percent"):
            v = getattr(self, k)
            if v is not None:
                out[k] = round(v, 4) if isinstance(v, float) else v
        if self.observed_value is not None:
            out["observed_value"] = _plain(self.observed_value)
        if self.partial_unexpected:
            out["examples"] = [_plain(v) for v in self.partial_unexpected[:5]]
        if self.details:
            out["details"] = json.loads(json.dumps(self.details, default=str))
        if self.error:
            out["error"] = self.error[:300]
        return out


def _plain(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if hasattr(value, "item"):
        try:
            return value.item()
        except Exception:  # noqa: BLE001
            pass
    return str(value)


@dataclass
class RuleOutcome:
    """The expectations of one rule of one suite: what a Dagster check reports."""

    rule: str
    severity: str
    expectations: list[ExpectationOutcome]
    not_evaluated: list[ExpectationOutcome] = field(default_factory=list)  # on columns not delivered

    @property
    def passed(self) -> bool:
        return all(e.success for e in self.expectations)

    @property
    def failed(self) -> list[ExpectationOutcome]:
        return [e for e in self.expectations if not e.success]

    @property
    def success_percent(self) -> float:
        return 100.0 * (len(self.expectations) - len(self.failed)) / len(self.expectations) if self.expectations else 100.0

    @property
    def unexpected_count(self) -> int:
        return int(sum(e.unexpected_count or 0 for e in self.expectations))

    @property
    def max_unexpected_percent(self) -> float:
        return float(max([e.unexpected_percent or 0.0 for e in self.expectations] or [0.0]))

    @property
    def element_count(self) -> int:
        return int(max([e.element_count or 0 for e in self.expectations] or [0]))


@dataclass
class SuiteOutcome:
    suite: str
    success: bool
    evaluated: int
    successful: int
    rules: dict[str, RuleOutcome]
    rows: int
    data_docs_page: str | None = None
    validation_id: Any = None  # GX ValidationResultIdentifier

    @property
    def success_percent(self) -> float:
        return 100.0 * self.successful / self.evaluated if self.evaluated else 100.0


# --------------------------------------------------------------------------- the GX session


def _site_config(docs: Path) -> dict[str, Any]:
    return {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs)},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
    }


@contextmanager
def _docs_lock() -> Iterator[None]:
    """One Data Docs writer at a time (checks of concurrent runs share the site)."""
    quality_dir().mkdir(parents=True, exist_ok=True)
    with open(quality_dir() / ".data_docs.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


class GxSession:
    """One ephemeral GX context for a check step: suites loaded with severities, pandas batches."""

    def __init__(self) -> None:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
        import great_expectations as gx  # noqa: PLC0415  (lazy: seconds to import)
        from great_expectations.data_context.types.base import (  # noqa: PLC0415
            DataContextConfig,
            InMemoryStoreBackendDefaults,
        )

        self.gx = gx
        config = DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
            analytics_enabled=False,
        ).to_json_dict()
        config["stores"]["validation_results_store"]["store_backend"] = {
            "class_name": "TupleFilesystemStoreBackend",
            "base_directory": str(validations_dir()),
        }
        config["data_docs_sites"] = {"local_site": _site_config(data_docs_dir())}
        config["progress_bars"] = {"globally": False, "metric_calculations": False, "profilers": False}
        self.context = gx.get_context(project_config=config, mode="ephemeral")
        self._sources: dict[str, Any] = {}
        self._suites: dict[str, Any] = {}
        self._results: list[Any] = []
        self.sla = sla_config()

    # ----------------------------------------------------------------- suites

    def suite(self, name: str) -> Any:
        if name not in self._suites:
            from great_expectations.core.expectation_suite import ExpectationSuite  # noqa: PLC0415

            doc = json.loads(json.dumps(suite_documents()[name]))
            layer = doc["meta"]["layer"]
            for e in doc["expectations"]:
                severity = self.sla.severity_of(layer, e["meta"]["rule"], name)
                e["severity"] = "critical" if severity == CRITICAL else "warning"
                e["meta"]["severity"] = severity
            self._suites[name] = self.context.suites.add(ExpectationSuite(**doc))
        return self._suites[name]

    # ----------------------------------------------------------------- validation

    def validate(self, suite_name: str, frame: Any, *, run_name: str, source: str,
                 parameters: dict[str, Any] | None = None, absent: set[str] | None = None) -> SuiteOutcome:
        """Validate `frame` with suite `suite_name`; the result is stored for the Data Docs.

        `absent`: columns known not to be in the batch (not delivered). Expectations on them are
        not evaluated, except the `schema` rule's, which reports them missing.
        """
        from great_expectations.core.run_identifier import RunIdentifier  # noqa: PLC0415

        gx = self.gx
        suite = self.suite(suite_name)
        if source not in self._sources:
            self._sources[source] = self.context.data_sources.add_pandas(source)
        ds = self._sources[source]
        asset_name = suite_name.split(".", 1)[1]
        try:
            asset = ds.get_asset(asset_name)
        except LookupError:
            asset = ds.add_dataframe_asset(asset_name)
        batch_definition = asset.add_batch_definition_whole_dataframe(f"{asset_name}-{len(self._results)}")
        vd = self.context.validation_definitions.add(
            gx.ValidationDefinition(name=f"{suite_name}-{len(self._results)}", data=batch_definition, suite=suite)
        )
        checkpoint = self.context.checkpoints.add(
            gx.Checkpoint(name=f"cp-{suite_name}-{len(self._results)}", validation_definitions=[vd], actions=[],
                          result_format={"result_format": "BASIC", "partial_unexpected_count": 5})
        )
        run_id = RunIdentifier(run_name=run_name, run_time=datetime.now(timezone.utc))
        result = checkpoint.run(batch_parameters={"dataframe": frame}, expectation_parameters=parameters or {},
                                run_id=run_id)
        ((validation_id, vr),) = result.run_results.items()
        self._results.append(validation_id)
        return self._outcome(suite_name, vr, validation_id, len(frame), absent or set())

    def _outcome(self, suite_name: str, vr: Any, validation_id: Any, rows: int, absent: set[str]) -> SuiteOutcome:
        layer = suite_documents()[suite_name]["meta"]["layer"]
        rules: dict[str, RuleOutcome] = {}
        for r in vr.results:
            cfg = r.expectation_config
            rule = (cfg.meta or {}).get("rule", "other")
            res = r.result or {}
            error = None
            if r.exception_info:
                info = r.exception_info
                if "exception_message" in info:
                    error = info.get("exception_message") if info.get("raised_exception") else None
                else:  # {metric id: {exception_message, ...}}
                    msgs = [v.get("exception_message") for v in info.values() if isinstance(v, dict)]
                    error = "; ".join(m for m in msgs if m) or None
            outcome = ExpectationOutcome(
                type=cfg.type,
                column=cfg.kwargs.get("column") or (",".join(cfg.kwargs["column_list"]) if "column_list" in cfg.kwargs else None),
                rule=rule,
                success=bool(r.success),
                element_count=res.get("element_count"),
                unexpected_count=res.get("unexpected_count"),
                unexpected_percent=res.get("unexpected_percent"),
                observed_value=res.get("observed_value"),
                partial_unexpected=list(res.get("partial_unexpected_list") or []),
                error=error,
                details=res.get("details"),
            )
            if rule not in rules:
                rules[rule] = RuleOutcome(rule, self.sla.severity_of(layer, rule, suite_name), [])
            columns = set(outcome.column.split(",")) if outcome.column else set()
            if rule != "schema" and columns & absent:
                rules[rule].not_evaluated.append(outcome)
            else:
                rules[rule].expectations.append(outcome)
        stats = vr.statistics
        return SuiteOutcome(
            suite=suite_name,
            success=bool(vr.success),
            evaluated=int(stats.get("evaluated_expectations") or 0),
            successful=int(stats.get("successful_expectations") or 0),
            rules=rules,
            rows=rows,
            data_docs_page=str(self._page_path(validation_id)),
            validation_id=validation_id,
        )

    def _page_path(self, validation_id: Any) -> Path:
        # <docs>/validations/<suite parts>/<run_name>/<run_time>/<batch>.html, as the site writes it
        parts = validation_id.to_tuple()
        return data_docs_dir() / "validations" / Path(*[str(p) for p in parts[:-1]]) / f"{parts[-1]}.html"

    # ----------------------------------------------------------------- data docs

    def build_data_docs(self) -> Path:
        """Render this session's validations and suites, prune old results, rebuild the index."""
        from great_expectations.data_context.types.resource_identifiers import (  # noqa: PLC0415
            ExpectationSuiteIdentifier,
        )

        render = []
        for name in suite_documents():
            self.suite(name)  # every suite in the site, not only this step's
            page = _suite_page(name)
            if not page.exists() or page.stat().st_mtime < _suite_file(name).stat().st_mtime:
                render.append(name)  # a new or changed suite: (re)render its page
        with _docs_lock():
            mine = {validations_dir() / Path(*[str(p) for p in r.to_tuple()[:-2]]) for r in self._results}
            _prune_validations(validations_dir(), data_docs_dir() / "validations", KEEP_VALIDATIONS_PER_BATCH,
                               protected=mine)
            resources = [*self._results, *(ExpectationSuiteIdentifier(name=n) for n in render)]
            self.context.build_data_docs(resource_identifiers=resources)
        return data_docs_dir() / "index.html"


def _suite_page(name: str) -> Path:
    return data_docs_dir() / "expectations" / Path(*name.split(".")).with_suffix(".html")


def _suite_file(name: str) -> Path:
    return EXPECTATIONS_DIR / suite_documents()[name]["meta"]["layer"] / f"{name.removeprefix('raw.').removeprefix('staging.')}.json"


def _prune_validations(store: Path, pages: Path, keep: int, keep_batches: int = KEEP_BATCHES_PER_SUITE,
                       protected: set[Path] | None = None) -> None:
    """Keep the latest `keep` validations of each (suite, run name) and the latest `keep_batches`
    run names of each suite (raw: business dates); remove older results and their pages."""
    if not store.is_dir():
        return

    def drop(path: Path) -> None:
        shutil.rmtree(path, ignore_errors=True)
        shutil.rmtree(pages / path.relative_to(store), ignore_errors=True)

    for suite_dir in store.glob("*/*"):  # <layer>/<table>
        if not suite_dir.is_dir():
            continue
        run_dirs = sorted((p for p in suite_dir.iterdir() if p.is_dir()), key=lambda p: p.name)
        for old in run_dirs[:-keep_batches]:
            if old not in (protected or set()):  # never this session's own (e.g. a backfilled old date)
                drop(old)
        for run_dir in run_dirs[-keep_batches:]:
            runs = sorted((p for p in run_dir.iterdir() if p.is_dir()), key=lambda p: p.name)
            for old in runs[:-keep]:
                drop(old)


def now_parameter() -> datetime:
    """Value of the suites' `now` parameter: the ceiling of dates and times (now + 1 day, naive local time)."""
    from zoneinfo import ZoneInfo  # noqa: PLC0415

    from ..sources.contract import load_contract  # noqa: PLC0415

    local_now = datetime.now(ZoneInfo(load_contract().timezone)).replace(tzinfo=None, microsecond=0)
    return local_now + timedelta(days=1)
