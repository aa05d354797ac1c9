"""Typed access to quality/sla.yaml (validated on load)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

SLA_PATH = Path(__file__).with_name("sla.yaml")


@dataclass(frozen=True)
class IngestThresholds:
    max_quarantine_rate: float
    delivery_due_hours: float


@lru_cache(maxsize=1)
def ingest_thresholds(path: str | Path = SLA_PATH) -> IngestThresholds:
    doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))["ingest"]
    t = IngestThresholds(
        max_quarantine_rate=float(doc["max_quarantine_rate"]),
        delivery_due_hours=float(doc["delivery_due_hours"]),
    )
    if not 0 <= t.max_quarantine_rate <= 1:
        raise ValueError(f"{path}: ingest.max_quarantine_rate must be within [0, 1], got {t.max_quarantine_rate}")
    if t.delivery_due_hours <= 0:
        raise ValueError(f"{path}: ingest.delivery_due_hours must be positive, got {t.delivery_due_hours}")
    return t
