"""Typed access to quality/sla.yaml (validated on load).

- :func:`ingest_thresholds`: what the ingest checks need (quarantine rate, delivery due hours).
- :func:`sla_config`: the whole file: rule severities per layer (with per-suite overrides) and
  the SLA thresholds used by the expectation suites, the SLA checks and the dq_sla_daily mart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

SLA_PATH = Path(__file__).with_name("sla.yaml")

CRITICAL = "critical"
WARNING = "warning"
SEVERITIES = (CRITICAL, WARNING)
LAYERS = ("raw", "staging", "marts")


@dataclass(frozen=True)
class IngestThresholds:
    max_quarantine_rate: float
    delivery_due_hours: float


@dataclass(frozen=True)
class VolumeThresholds:
    window_days: int
    min_history_days: int
    min_median_rows: float
    min_ratio: float
    max_ratio: float


@dataclass(frozen=True)
class SlaThresholds:
    id_validity_min_rate: float
    mobile_validity_min_rate: float
    optional_vocabulary_min_rate: float
    required_completeness_min_rate: float
    change_sync_min_rate: float
    change_sync_window_days: int
    max_duplicate_rate_after: float
    min_values_judged: int
    volume: VolumeThresholds


@dataclass(frozen=True)
class SlaConfig:
    ingest: IngestThresholds
    thresholds: SlaThresholds
    severity: dict[str, dict[str, str]]  # layer -> rule -> critical | warning
    overrides: dict[str, dict[str, str]] = field(default_factory=dict)  # suite -> rule -> severity

    def rules(self, layer: str) -> list[str]:
        return list(self.severity[layer])

    def severity_of(self, layer: str, rule: str, suite: str | None = None) -> str:
        """The severity of `rule` in `layer` (a suite override wins)."""
        if suite and rule in self.overrides.get(suite, {}):
            return self.overrides[suite][rule]
        try:
            return self.severity[layer][rule]
        except KeyError:
            raise KeyError(f"{SLA_PATH.name}: no severity for rule {rule!r} in layer {layer!r}") from None

    def is_critical(self, layer: str, rule: str, suite: str | None = None) -> bool:
        return self.severity_of(layer, rule, suite) == CRITICAL

    def as_dict(self) -> dict[str, Any]:
        """Plain values (for the generated dbt macro and for metadata)."""
        t = self.thresholds
        return {
            "delivery_due_hours": self.ingest.delivery_due_hours,
            "max_quarantine_rate": self.ingest.max_quarantine_rate,
            "id_validity_min_rate": t.id_validity_min_rate,
            "mobile_validity_min_rate": t.mobile_validity_min_rate,
            "optional_vocabulary_min_rate": t.optional_vocabulary_min_rate,
            "required_completeness_min_rate": t.required_completeness_min_rate,
            "change_sync_min_rate": t.change_sync_min_rate,
            "change_sync_window_days": t.change_sync_window_days,
            "max_duplicate_rate_after": t.max_duplicate_rate_after,
            "min_values_judged": t.min_values_judged,
            "volume": {
                "window_days": t.volume.window_days,
                "min_history_days": t.volume.min_history_days,
                "min_median_rows": t.volume.min_median_rows,
                "min_ratio": t.volume.min_ratio,
                "max_ratio": t.volume.max_ratio,
            },
        }


def _rate(path: Path, name: str, value: Any) -> float:
    v = float(value)
    if not 0 <= v <= 1:
        raise ValueError(f"{path}: {name} must be within [0, 1], got {v}")
    return v


def _positive(path: Path, name: str, value: Any) -> float:
    v = float(value)
    if v <= 0:
        raise ValueError(f"{path}: {name} must be positive, got {v}")
    return v


def _ingest(path: Path, doc: dict[str, Any]) -> IngestThresholds:
    return IngestThresholds(
        max_quarantine_rate=_rate(path, "ingest.max_quarantine_rate", doc["max_quarantine_rate"]),
        delivery_due_hours=_positive(path, "ingest.delivery_due_hours", doc["delivery_due_hours"]),
    )


@lru_cache(maxsize=1)
def ingest_thresholds(path: str | Path = SLA_PATH) -> IngestThresholds:
    path = Path(path)
    return _ingest(path, yaml.safe_load(path.read_text(encoding="utf-8"))["ingest"])


def parse_sla(doc: dict[str, Any], path: Path = SLA_PATH) -> SlaConfig:
    sev = doc.get("severity") or {}
    severity: dict[str, dict[str, str]] = {}
    for layer in LAYERS:
        rules = sev.get(layer) or {}
        if not rules:
            raise ValueError(f"{path}: severity.{layer} lists no rules")
        for rule, level in rules.items():
            if level not in SEVERITIES:
                raise ValueError(f"{path}: severity.{layer}.{rule} must be one of {SEVERITIES}, got {level!r}")
        severity[layer] = {str(k): str(v) for k, v in rules.items()}
    unknown = set(sev) - set(LAYERS) - {"overrides"}
    if unknown:
        raise ValueError(f"{path}: unknown severity layers {sorted(unknown)}")
    overrides: dict[str, dict[str, str]] = {}
    for suite, rules in (sev.get("overrides") or {}).items():
        layer = str(suite).split(".", 1)[0]
        layer = "marts" if layer not in ("raw", "staging") else layer
        for rule, level in (rules or {}).items():
            if rule not in severity[layer]:
                raise ValueError(f"{path}: severity.overrides.{suite}.{rule}: no such rule in layer {layer}")
            if level not in SEVERITIES:
                raise ValueError(f"{path}: severity.overrides.{suite}.{rule} must be one of {SEVERITIES}")
        overrides[str(suite)] = {str(k): str(v) for k, v in (rules or {}).items()}

    t = doc["thresholds"]
    v = t["volume"]
    volume = VolumeThresholds(
        window_days=int(_positive(path, "thresholds.volume.window_days", v["window_days"])),
        min_history_days=int(_positive(path, "thresholds.volume.min_history_days", v["min_history_days"])),
        min_median_rows=float(v["min_median_rows"]),
        min_ratio=float(v["min_ratio"]),
        max_ratio=float(v["max_ratio"]),
    )
    if not 0 <= volume.min_ratio < 1 < volume.max_ratio:
        raise ValueError(f"{path}: thresholds.volume needs 0 <= min_ratio < 1 < max_ratio")
    if volume.min_history_days > volume.window_days:
        raise ValueError(f"{path}: thresholds.volume.min_history_days exceeds window_days")
    thresholds = SlaThresholds(
        id_validity_min_rate=_rate(path, "thresholds.id_validity_min_rate", t["id_validity_min_rate"]),
        mobile_validity_min_rate=_rate(path, "thresholds.mobile_validity_min_rate", t["mobile_validity_min_rate"]),
        optional_vocabulary_min_rate=_rate(path, "thresholds.optional_vocabulary_min_rate",
                                           t["optional_vocabulary_min_rate"]),
        required_completeness_min_rate=_rate(path, "thresholds.required_completeness_min_rate",
                                             t["required_completeness_min_rate"]),
        change_sync_min_rate=_rate(path, "thresholds.change_sync_min_rate", t["change_sync_min_rate"]),
        change_sync_window_days=int(_positive(path, "thresholds.change_sync_window_days", t["change_sync_window_days"])),
        max_duplicate_rate_after=_rate(path, "thresholds.max_duplicate_rate_after", t["max_duplicate_rate_after"]),
        min_values_judged=int(t["min_values_judged"]),
        volume=volume,
    )
    return SlaConfig(ingest=_ingest(path, doc["ingest"]), thresholds=thresholds, severity=severity,
                     overrides=overrides)


@lru_cache(maxsize=1)
def sla_config(path: str | Path = SLA_PATH) -> SlaConfig:
    path = Path(path)
    return parse_sla(yaml.safe_load(path.read_text(encoding="utf-8")), path)
