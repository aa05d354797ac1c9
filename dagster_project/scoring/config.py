"""Typed, validated access to scoring/churn.yaml, and the dbt macro generated from it.

`load_churn_config()` raises `ChurnConfigError` listing every problem with the file, the key
and the rule (a missing key, a value of the wrong kind or range, bands out of order, an action
rule with an unknown trigger or channel, a model feature without plain words). Dagster loads it
when it builds the definitions, so a broken file stops every run before it starts.

`python -m dagster_project.scoring.config [--check]` writes (or checks) the generated dbt macro
`dbt/macros/churn/churn_config.sql`, through which dbt reads the definition, as-of and feature
settings (dbt cannot read YAML files itself).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from ..settings import DBT_PROJECT_DIR
from ..sources.generated import sync_generated_files

CONFIG_PATH = Path(__file__).with_name("churn.yaml")
CONFIG_MACRO = DBT_PROJECT_DIR / "macros" / "churn" / "churn_config.sql"
GENERATOR = "python -m dagster_project.scoring.config"

TRIGGERS = ("at_risk", "renewal_due", "lifecycle", "dormant")
CHANNELS = ("sms", "push", "wechat", "email", "outbound_call")  # the marketing touches / consents vocabulary
SERVICE_TIERS = ("diamond", "gold", "standard", "automated")
OWNER_ROLES = ("agent", "account_manager")


class ChurnConfigError(ValueError):
    def __init__(self, path: Path, problems: list[str]):
        self.problems = problems
        super().__init__(f"{path}: churn settings rejected:\n" + "\n".join(f"  - {p}" for p in problems))


@dataclass(frozen=True)
class RiskBand:
    band: str
    min_probability: float


@dataclass(frozen=True)
class ActionRule:
    action: str
    trigger: str
    channels: tuple[str, ...]
    cooldown_days: int
    min_days: int | None = None
    max_days: int | None = None


@dataclass(frozen=True)
class ChurnConfig:
    path: Path
    horizon_days: int
    early_warning_days: int
    knowledge_cutoff_time: str
    step_days: int
    history_days: int
    late_payment_days: int
    windows_days: dict[str, int]
    half_life_days: dict[str, float]
    decay_window_days: int
    dormant_days: int
    evaluation_days: int
    calibration_days: int
    purge_gap_days: int
    min_positive_labels: int
    min_promote_roc_auc: float
    retrain_every_days: int
    seed: int
    lightgbm: dict[str, Any]
    refit_with_calibration: bool
    alert_probability: float
    risk_bands: tuple[RiskBand, ...]
    reasons: dict[str, str]
    at_risk_bands: tuple[str, ...]
    contact_cap_per_month: int
    action_rules: tuple[ActionRule, ...]
    owners: dict[str, str]
    raw: dict[str, Any] = field(repr=False, default_factory=dict)

    @property
    def knowledge_cutoff_hours(self) -> float:
        """Hours after the start of the as-of date's next day (06:30 -> 6.5)."""
        h, m = self.knowledge_cutoff_time.split(":")
        return int(h) + int(m) / 60

    def band_of(self, probability: float) -> str:
        for b in self.risk_bands:
            if probability >= b.min_probability:
                return b.band
        return self.risk_bands[-1].band

    def reason_text(self, feature: str, value: Any) -> str:
        template = self.reasons[feature]
        if value is None or (isinstance(value, float) and value != value):
            shown = "unknown"
        elif isinstance(value, float) and not value.is_integer():
            shown = f"{value:+.0%}" if ("change" in feature or "trend" in feature) else f"{value:,.0f}"
        else:
            shown = f"{int(value):,}"
        return template.replace("{value}", shown)

    def dbt_settings(self) -> dict[str, Any]:
        """What dbt reads (churn_config() macro)."""
        return {
            "horizon_days": self.horizon_days,
            "early_warning_days": self.early_warning_days,
            "knowledge_cutoff_minutes": int(round(self.knowledge_cutoff_hours * 60)),
            "step_days": self.step_days,
            "history_days": self.history_days,
            "late_payment_days": self.late_payment_days,
            "windows_days": dict(self.windows_days),
            "half_life_days": dict(self.half_life_days),
            "decay_window_days": self.decay_window_days,
            "dormant_days": self.dormant_days,
            "contact_cap_per_month": self.contact_cap_per_month,
            "at_risk_bands": list(self.at_risk_bands),
            "risk_bands": [{"band": b.band, "min_probability": b.min_probability} for b in self.risk_bands],
            "action_rules": [
                {"action": r.action, "trigger": r.trigger, "channels": list(r.channels), "cooldown_days": r.cooldown_days,
                 "min_days": r.min_days, "max_days": r.max_days, "priority": i + 1}
                for i, r in enumerate(self.action_rules)
            ],
            "owners": dict(self.owners),
        }


class _Reader:
    """Reads keys of a nested mapping, collecting problems instead of stopping at the first."""

    def __init__(self, doc: Any):
        self.doc = doc
        self.problems: list[str] = []

    def get(self, dotted: str, kind: type | tuple, *, minimum: float | None = None, maximum: float | None = None,
            optional: bool = False) -> Any:
        node = self.doc
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                if not optional:
                    self.problems.append(f"{dotted}: missing")
                return None
            node = node[part]
        if node is None and optional:
            return None
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if isinstance(node, bool) and bool not in kinds:
            self.problems.append(f"{dotted}: {node!r} is not a {'/'.join(k.__name__ for k in kinds)}")
            return None
        if not isinstance(node, kinds):
            if float in kinds and isinstance(node, int):
                node = float(node)
            else:
                self.problems.append(f"{dotted}: {node!r} is not a {'/'.join(k.__name__ for k in kinds)}")
                return None
        if minimum is not None and isinstance(node, (int, float)) and node < minimum:
            self.problems.append(f"{dotted}: {node!r} is below {minimum}")
        if maximum is not None and isinstance(node, (int, float)) and node > maximum:
            self.problems.append(f"{dotted}: {node!r} is above {maximum}")
        return node


def parse_churn_config(doc: Any, path: Path = CONFIG_PATH, model_features: list[str] | None = None) -> ChurnConfig:
    """Validate a parsed churn.yaml; raise ChurnConfigError naming every problem."""
    r = _Reader(doc)
    horizon = r.get("definition.horizon_days", int, minimum=7, maximum=365)
    early = r.get("definition.early_warning_days", int, minimum=0)
    if horizon and early is not None and early >= horizon:
        r.problems.append(f"definition.early_warning_days: {early} must be below horizon_days {horizon}")
    cutoff = r.get("as_of.knowledge_cutoff_time", str)
    if cutoff is not None and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", cutoff):
        r.problems.append(f"as_of.knowledge_cutoff_time: {cutoff!r} is not HH:MM")
    step = r.get("as_of.step_days", int, minimum=1)
    history = r.get("as_of.history_days", int, minimum=30)
    late = r.get("features.late_payment_days", int, minimum=1, maximum=60)
    windows = {k: r.get(f"features.windows_days.{k}", int, minimum=1) for k in ("short", "medium", "long")}
    if all(windows.values()) and not windows["short"] < windows["medium"] < windows["long"]:
        r.problems.append(f"features.windows_days: short < medium < long does not hold ({windows})")
    half = {k: r.get(f"features.half_life_days.{k}", float, minimum=1) for k in ("payments", "tickets", "claims", "contacts")}
    decay_window = r.get("features.decay_window_days", int, minimum=1)
    dormant = r.get("features.dormant_days", int, minimum=1)
    evaluation = r.get("model.evaluation_days", int, minimum=1)
    calibration = r.get("model.calibration_days", int, minimum=1)
    gap = r.get("model.purge_gap_days", int, minimum=0)
    if gap is not None and horizon and gap < horizon:
        r.problems.append(f"model.purge_gap_days: {gap} is below definition.horizon_days {horizon} "
                          "(training labels would overlap the evaluation period)")
    min_pos = r.get("model.min_positive_labels", int, minimum=1)
    min_auc = r.get("model.min_promote_roc_auc", float, minimum=0.5, maximum=1.0)
    retrain = r.get("model.retrain_every_days", int, minimum=1)
    seed = r.get("model.seed", int)
    lgb = r.get("model.lightgbm", dict) or {}
    for key in ("num_boost_round", "early_stopping_rounds", "learning_rate", "num_leaves"):
        if key not in lgb:
            r.problems.append(f"model.lightgbm.{key}: missing")
    if lgb.get("objective", "binary") != "binary":
        r.problems.append(f"model.lightgbm.objective: {lgb.get('objective')!r} must be binary")
    refit = r.get("model.refit_with_calibration", bool)
    alert = r.get("model.alert_probability", float, minimum=0.0, maximum=1.0)

    bands_doc = r.get("risk_bands", list) or []
    bands: list[RiskBand] = []
    for i, b in enumerate(bands_doc):
        if not isinstance(b, dict) or not isinstance(b.get("band"), str) or not isinstance(b.get("min_probability"), (int, float)):
            r.problems.append(f"risk_bands[{i}]: needs band (text) and min_probability (number)")
            continue
        bands.append(RiskBand(b["band"], float(b["min_probability"])))
    if bands:
        probs = [b.min_probability for b in bands]
        if probs != sorted(probs, reverse=True) or len(set(probs)) != len(probs):
            r.problems.append(f"risk_bands: min_probability must strictly decrease from the first band ({probs})")
        if probs[-1] != 0.0:
            r.problems.append("risk_bands: the last band must start at 0.0 (every probability gets a band)")
        if any(not 0 <= p <= 1 for p in probs):
            r.problems.append("risk_bands: min_probability must lie in [0, 1]")
        if len({b.band for b in bands}) != len(bands):
            r.problems.append("risk_bands: band names must be unique")

    reasons = r.get("reasons", dict) or {}
    for k, v in reasons.items():
        if not isinstance(v, str) or not v.strip():
            r.problems.append(f"reasons.{k}: needs a text")
    for feature in model_features or []:
        if feature not in reasons:
            r.problems.append(f"reasons.{feature}: missing (every model feature needs plain words)")

    at_risk = tuple(r.get("actions.at_risk_bands", list) or ())
    for b in at_risk:
        if b not in {x.band for x in bands}:
            r.problems.append(f"actions.at_risk_bands: {b!r} is not a risk band")
    cap = r.get("actions.contact_cap_per_month", int, minimum=0)
    rules: list[ActionRule] = []
    seen: set[str] = set()
    for i, rule in enumerate(r.get("actions.rules", list) or []):
        where = f"actions.rules[{i}]"
        if not isinstance(rule, dict):
            r.problems.append(f"{where}: not a mapping")
            continue
        name, trigger = rule.get("action"), rule.get("trigger")
        where = f"{where} ({name})"
        if not isinstance(name, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            r.problems.append(f"{where}: action must be a lower-case name")
        elif name in seen:
            r.problems.append(f"{where}: action listed twice")
        seen.add(str(name))
        if trigger not in TRIGGERS:
            r.problems.append(f"{where}: trigger {trigger!r} is not one of {', '.join(TRIGGERS)}")
        channels = rule.get("channels")
        if not isinstance(channels, list) or not channels:
            r.problems.append(f"{where}: channels must be a non-empty list")
            channels = []
        for c in channels:
            if c not in CHANNELS:
                r.problems.append(f"{where}: channel {c!r} is not one of {', '.join(CHANNELS)}")
        cooldown = rule.get("cooldown_days")
        if not isinstance(cooldown, int) or isinstance(cooldown, bool) or cooldown < 0:
            r.problems.append(f"{where}: cooldown_days must be a whole number >= 0")
            cooldown = 0
        lo, hi = rule.get("min_days"), rule.get("max_days")
        if trigger in ("renewal_due", "lifecycle"):
            if not isinstance(lo, int) or lo < 0:
                r.problems.append(f"{where}: min_days must be a whole number >= 0 for trigger {trigger}")
            if hi is not None and (not isinstance(hi, int) or (isinstance(lo, int) and hi < lo)):
                r.problems.append(f"{where}: max_days must be null or a whole number >= min_days")
        elif lo is not None or hi is not None:
            r.problems.append(f"{where}: min_days / max_days apply to renewal_due and lifecycle triggers only")
        rules.append(ActionRule(str(name), str(trigger), tuple(channels), int(cooldown),
                                lo if isinstance(lo, int) else None, hi if isinstance(hi, int) else None))
    lifecycle = sorted((x.min_days or 0, x.max_days if x.max_days is not None else 10**9, x.action)
                       for x in rules if x.trigger == "lifecycle")
    for (lo1, hi1, a1), (lo2, hi2, a2) in zip(lifecycle, lifecycle[1:]):
        if lo2 <= hi1:
            r.problems.append(f"actions.rules: lifecycle windows of {a1} and {a2} overlap ({lo1}-{hi1} / {lo2}-{hi2})")
    owners = r.get("actions.owners", dict) or {}
    for tier in SERVICE_TIERS:
        if owners.get(tier) not in OWNER_ROLES:
            r.problems.append(f"actions.owners.{tier}: {owners.get(tier)!r} is not one of {', '.join(OWNER_ROLES)}")

    if r.problems:
        raise ChurnConfigError(path, r.problems)
    return ChurnConfig(
        path=path, horizon_days=horizon, early_warning_days=early, knowledge_cutoff_time=cutoff, step_days=step,
        history_days=history, late_payment_days=late, windows_days=windows, half_life_days=half,
        decay_window_days=decay_window, dormant_days=dormant, evaluation_days=evaluation,
        calibration_days=calibration, purge_gap_days=gap, min_positive_labels=min_pos, min_promote_roc_auc=min_auc,
        retrain_every_days=retrain, seed=seed, lightgbm=dict(lgb), refit_with_calibration=bool(refit),
        alert_probability=alert,
        risk_bands=tuple(bands), reasons={k: str(v) for k, v in reasons.items()}, at_risk_bands=at_risk,
        contact_cap_per_month=cap, action_rules=tuple(rules), owners={k: owners[k] for k in SERVICE_TIERS},
        raw=doc,
    )


@lru_cache(maxsize=4)
def _load(path: Path) -> ChurnConfig:
    from .features import MODEL_FEATURES  # noqa: PLC0415 - features import config lazily

    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ChurnConfigError(path, [f"not valid YAML: {exc}"]) from None
    return parse_churn_config(doc, path, [f.name for f in MODEL_FEATURES])


def load_churn_config(path: Path | None = None) -> ChurnConfig:
    return _load(Path(path or CONFIG_PATH))


def config_macro(cfg: ChurnConfig | None = None) -> str:
    cfg = cfg or load_churn_config()
    payload = json.dumps(cfg.dbt_settings(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return (
        f"{{#- GENERATED by `{GENERATOR}` from dagster_project/scoring/churn.yaml. Do not edit by hand.\n"
        "    churn_config() -> the churn definition, as-of, feature and action settings. -#}\n"
        "{% macro churn_config() -%}\n"
        f"    {{{{ return(fromjson('{payload.replace(chr(39), chr(92) + chr(39))}')) }}}}\n"
        "{%- endmacro %}\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write (or --check) dbt/macros/churn/churn_config.sql from churn.yaml")
    parser.add_argument("--check", action="store_true", help="exit 1 when the committed macro differs")
    args = parser.parse_args(argv)
    return sync_generated_files({CONFIG_MACRO: config_macro()}, check=args.check, generator=GENERATOR)


if __name__ == "__main__":
    sys.exit(main())
