"""Validation of the tiering rules (the CSV seeds in dbt/seeds/tiering).

`validate_rules(seed_dir)` reads every rule file and raises `TierRuleError` listing each
problem with the file, the line, the rule and the conflict: overlapping or gapped ranges,
tiers or grades whose ranges contradict their order, a (value tier, risk grade, loyalty grade)
combination matched by two service rules or by none, unknown features, vocabularies or
settings, impossible rates. It runs when Dagster loads the definitions (so before any run),
from `python -m dagster_project.tiering validate`, and in the tests.

`check_override_requests(seed_dir)` reports the manual override requests that will be rejected
(missing risk or business approval, approver = requester): dbt (marts.tier_overrides) is what
enforces it; this tells the person who edited the file at once.
"""

from __future__ import annotations

import csv
import itertools
import math
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..settings import DBT_PROJECT_DIR

SEED_DIR = DBT_PROJECT_DIR / "seeds" / "tiering"
FEATURES_YAML = DBT_PROJECT_DIR / "models" / "marts" / "tiering" / "_tiering__models.yml"
FEATURES_MODEL = "int_tiering_customer_features"

VALUE_TIER_ORDER = ("basic", "mid", "high_value")  # ranges must rise in this order
POTENTIAL = "potential"  # derived from basic + growth grade, not a range of its own
SERVICE_DIMENSIONS = (("value_tiers", "value tier"), ("risk_grades", "risk grade"), ("loyalty_grades", "loyalty grade"))
REQUIRED_SETTINGS = ("decline_tolerance", "potential_growth_grade", "vip_tenure_years",
                     "pyramid_top", "pyramid_middle", "pyramid_base", "manager_cost_per_customer")
EVENT_TYPES = ("large_claim", "repeated_surrenders", "addon_purchase")
TARGET_UNITS = ("minutes", "hours", "working_days")


@dataclass(frozen=True)
class RuleProblem:
    file: str
    line: int | None  # line in the file (header = 1), None for the file as a whole
    rule: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}" + (f" line {self.line}" if self.line else "")
        return f"{where} ({self.rule}): {self.message}"


class TierRuleError(ValueError):
    def __init__(self, problems: list[RuleProblem]):
        self.problems = problems
        super().__init__("tiering rules rejected:\n" + "\n".join(f"  - {p}" for p in problems))


@dataclass(frozen=True)
class Row:
    file: str
    line: int
    values: dict[str, str]

    def __getitem__(self, key: str) -> str:
        return (self.values.get(key) or "").strip()


def _read(seed_dir: Path, name: str, problems: list[RuleProblem]) -> list[Row]:
    path = seed_dir / f"{name}.csv"
    if not path.exists():
        problems.append(RuleProblem(str(path), None, name, "file missing"))
        return []
    with path.open(encoding="utf-8", newline="") as fh:
        return [Row(str(path), i + 2, row) for i, row in enumerate(csv.DictReader(fh))]


def _number(row: Row, column: str, rule: str, problems: list[RuleProblem], *, optional: bool = False) -> float | None:
    text = row[column]
    if text == "":
        if not optional:
            problems.append(RuleProblem(row.file, row.line, rule, f"{column} is empty"))
        return None
    try:
        return float(text)
    except ValueError:
        problems.append(RuleProblem(row.file, row.line, rule, f"{column} {text!r} is not a number"))
        return None


def _fmt(lo: float, hi: float) -> str:
    return f"[{lo:g}, {'inf' if math.isinf(hi) else f'{hi:g}'})"


def _check_ranges(rows: list[Row], label_col: str, rank_of, lo_col: str, hi_col: str, group: str,
                  problems: list[RuleProblem]) -> list[str]:
    """Half-open ranges of one group: unique labels, min < max, from 0 without gap or overlap, rising with rank."""
    ranges = []
    seen: dict[str, Row] = {}
    for row in rows:
        label = row[label_col]
        rule = f"{group}/{label}"
        if label in seen:
            problems.append(RuleProblem(row.file, row.line, rule,
                                        f"contradicts line {seen[label].line}: {label_col} {label!r} defined twice"))
            continue
        seen[label] = row
        lo = _number(row, lo_col, rule, problems)
        hi = _number(row, hi_col, rule, problems, optional=True)
        if lo is None:
            continue
        hi = math.inf if hi is None else hi
        if lo >= hi:
            problems.append(RuleProblem(row.file, row.line, rule, f"empty range {_fmt(lo, hi)}: {lo_col} must be below {hi_col}"))
            continue
        ranges.append((lo, hi, label, row))
    ranges.sort(key=lambda r: (r[0], r[1]))
    if ranges and ranges[0][0] > 0:
        lo, hi, label, row = ranges[0]
        problems.append(RuleProblem(row.file, row.line, f"{group}/{label}", f"gap: nothing covers [0, {lo:g})"))
    for (lo1, hi1, l1, r1), (lo2, hi2, l2, r2) in itertools.pairwise(ranges):
        if lo2 < hi1:
            problems.append(RuleProblem(r2.file, r2.line, f"{group}/{l2}",
                                        f"overlaps line {r1.line} ({group}/{l1} {_fmt(lo1, hi1)}) on {_fmt(lo2, min(hi1, hi2))}"))
        elif lo2 > hi1:
            problems.append(RuleProblem(r2.file, r2.line, f"{group}/{l2}",
                                        f"gap: nothing covers {_fmt(hi1, lo2)} between line {r1.line} ({group}/{l1}) and this rule"))
        rank1, rank2 = rank_of(l1, r1), rank_of(l2, r2)
        if rank1 is not None and rank2 is not None and rank2 < rank1:
            problems.append(RuleProblem(r2.file, r2.line, f"{group}/{l2}",
                                        f"contradicts line {r1.line}: {l2} ranks below {l1} but its range {_fmt(lo2, hi2)} "
                                        f"lies above {_fmt(lo1, hi1)}"))
    if ranges and not math.isinf(max(r[1] for r in ranges)):
        lo, hi, label, row = max(ranges, key=lambda r: r[1])
        problems.append(RuleProblem(row.file, row.line, f"{group}/{label}", f"gap: nothing covers values from {hi:g} up"))
    return [r[2] for r in ranges]


def _groups(rows: list[Row], *keys: str) -> dict[tuple[str, ...], list[Row]]:
    out: dict[tuple[str, ...], list[Row]] = {}
    for row in rows:
        out.setdefault(tuple(row[k] for k in keys), []).append(row)
    return out


def feature_columns(features_yaml: Path = FEATURES_YAML) -> set[str]:
    """The scoring features f_* the features model documents (its YAML is their one list)."""
    doc = yaml.safe_load(features_yaml.read_text(encoding="utf-8"))
    for model in doc.get("models", []):
        if model["name"] == FEATURES_MODEL:
            return {c["name"] for c in model.get("columns", []) if c["name"].startswith("f_")}
    return set()


def _split(text: str) -> list[str]:
    return [v.strip() for v in text.split("|") if v.strip()]


def validate_rules(seed_dir: Path | None = None, features_yaml: Path | None = None) -> dict[str, object]:
    """Check every rule file; raise TierRuleError naming file, line, rule and conflict. Returns the vocabularies."""
    seed_dir = Path(seed_dir or SEED_DIR)
    features_yaml = Path(features_yaml or FEATURES_YAML)
    problems: list[RuleProblem] = []
    lines_rows = _read(seed_dir, "tier_product_lines", problems)
    value_rows = _read(seed_dir, "tier_value_rules", problems)
    weight_rows = _read(seed_dir, "tier_score_weights", problems)
    grade_rows = _read(seed_dir, "tier_grade_rules", problems)
    service_rows = _read(seed_dir, "tier_service_rules", problems)
    entitlement_rows = _read(seed_dir, "tier_service_entitlements", problems)
    trigger_rows = _read(seed_dir, "tier_event_triggers", problems)
    setting_rows = _read(seed_dir, "tier_settings", problems)

    # product lines and CLV assumptions
    product_lines = set()
    for row in lines_rows:
        line = row["product_line"]
        if line in product_lines:
            problems.append(RuleProblem(row.file, row.line, line, "product line defined twice"))
        product_lines.add(line)
        for col in ("margin_rate", "lapse_rate", "mortality_rate"):
            v = _number(row, col, line, problems)
            if v is not None and not 0 <= v < 1:
                problems.append(RuleProblem(row.file, row.line, line, f"{col} {v:g} outside [0, 1)"))
        for col in ("discount_rate", "value_weight"):
            v = _number(row, col, line, problems)
            if v is not None and v < 0:
                problems.append(RuleProblem(row.file, row.line, line, f"{col} {v:g} is negative"))
        rates = [_number(row, c, line, []) or 0 for c in ("lapse_rate", "mortality_rate", "discount_rate")]
        if rates == [0, 0, 0]:
            problems.append(RuleProblem(row.file, row.line, line, "lapse, mortality and discount rates all 0: CLV would not converge"))
        v = _number(row, "horizon_years", line, problems)
        if v is not None and (v < 1 or v != int(v)):
            problems.append(RuleProblem(row.file, row.line, line, f"horizon_years {v:g} is not a whole number of years >= 1"))
    known_lines = product_lines | {"*"}

    def check_line(row: Row, rule: str) -> None:
        if row["product_line"] not in known_lines:
            problems.append(RuleProblem(row.file, row.line, rule,
                                        f"unknown product line {row['product_line']!r} (tier_product_lines or '*')"))

    # value tiers per product line
    value_tiers: set[str] = set()
    for (line,), rows in _groups(value_rows, "product_line").items():
        for row in rows:
            check_line(row, f"{line}/{row['value_tier']}")
            if row["value_tier"] not in VALUE_TIER_ORDER:
                problems.append(RuleProblem(row.file, row.line, f"{line}/{row['value_tier']}",
                                            f"unknown value tier (one of {', '.join(VALUE_TIER_ORDER)})"))
        value_tiers |= set(_check_ranges(rows, "value_tier",
                                         lambda label, _r: VALUE_TIER_ORDER.index(label) if label in VALUE_TIER_ORDER else None,
                                         "min_ratio", "max_ratio", line, problems))
    if value_rows and not any(r["product_line"] == "*" for r in value_rows):
        problems.append(RuleProblem(value_rows[0].file, None, "*", "no default ('*') value rules"))
    value_tiers.add(POTENTIAL)

    # grades per product line and dimension
    grades: dict[str, set[str]] = {}
    for (line, dimension), rows in _groups(grade_rows, "product_line", "dimension").items():
        for row in rows:
            check_line(row, f"{line}/{dimension}/{row['grade']}")
        ranks = {}
        for row in rows:
            rank = _number(row, "grade_rank", f"{line}/{dimension}/{row['grade']}", problems)
            if rank in ranks.values():
                other = next(r for r in rows if ranks.get(r["grade"]) == rank)
                problems.append(RuleProblem(row.file, row.line, f"{line}/{dimension}/{row['grade']}",
                                            f"contradicts line {other.line}: grade_rank {rank:g} given twice"))
            ranks[row["grade"]] = rank
        labels = _check_ranges(rows, "grade", lambda label, _r: ranks.get(label), "min_score", "max_score",
                               f"{line}/{dimension}", problems)
        grades.setdefault(dimension, set()).update(labels)
    dimensions = set(grades)
    for needed in ("risk", "loyalty", "growth", "rfm"):
        if not any(r["dimension"] == needed and r["product_line"] == "*" for r in grade_rows):
            problems.append(RuleProblem(str(seed_dir / "tier_grade_rules.csv"), None, f"*/{needed}",
                                        f"no default ('*') grades for dimension {needed}"))

    # score weights
    features = feature_columns(features_yaml)
    seen_weights: dict[tuple[str, str, str], Row] = {}
    for row in weight_rows:
        key = (row["product_line"], row["dimension"], row["feature"])
        rule = "/".join(key)
        check_line(row, rule)
        if key in seen_weights:
            problems.append(RuleProblem(row.file, row.line, rule,
                                        f"contradicts line {seen_weights[key].line}: the same feature weighted twice "
                                        f"({seen_weights[key]['weight']} and {row['weight']})"))
        seen_weights[key] = row
        if row["dimension"] not in dimensions:
            problems.append(RuleProblem(row.file, row.line, rule, f"dimension {row['dimension']!r} has no grades in tier_grade_rules"))
        if row["feature"] not in features:
            problems.append(RuleProblem(row.file, row.line, rule,
                                        f"unknown feature {row['feature']!r} (the f_* columns of {FEATURES_MODEL}: {', '.join(sorted(features))})"))
        w = _number(row, "weight", rule, problems)
        if w is not None and w <= 0:
            problems.append(RuleProblem(row.file, row.line, rule, f"weight {w:g} must be positive"))
    for dimension in sorted(dimensions):
        if not any(r["dimension"] == dimension and r["product_line"] == "*" for r in weight_rows):
            problems.append(RuleProblem(str(seed_dir / "tier_score_weights.csv"), None, f"*/{dimension}",
                                        f"no default ('*') weights for dimension {dimension}"))

    # service rules: every (value tier, risk grade, loyalty grade) matched by exactly one rule
    service_tiers = {r["service_tier"] for r in entitlement_rows}
    vocab = {"value_tiers": value_tiers, "risk_grades": grades.get("risk", set()), "loyalty_grades": grades.get("loyalty", set())}
    matches: dict[tuple[str, str, str], list[Row]] = {}
    seen_ids: dict[str, Row] = {}
    for row in service_rows:
        rule = row["rule_id"] or f"line {row.line}"
        if rule in seen_ids:
            problems.append(RuleProblem(row.file, row.line, rule, f"rule_id also on line {seen_ids[rule].line}"))
        seen_ids[rule] = row
        if row["service_tier"] not in service_tiers:
            problems.append(RuleProblem(row.file, row.line, rule,
                                        f"service tier {row['service_tier']!r} has no entitlements in tier_service_entitlements"))
        chosen = []
        for col, label in SERVICE_DIMENSIONS:
            values = sorted(vocab[col]) if row[col] == "*" else _split(row[col])
            unknown = [v for v in values if v not in vocab[col]]
            if unknown:
                problems.append(RuleProblem(row.file, row.line, rule, f"unknown {label} {', '.join(unknown)} "
                                            f"(known: {', '.join(sorted(vocab[col]))})"))
            chosen.append([v for v in values if v in vocab[col]])
        for combo in itertools.product(*chosen):
            matches.setdefault(combo, []).append(row)
    for combo in itertools.product(*(sorted(vocab[c]) for c, _ in SERVICE_DIMENSIONS)):
        rows = matches.get(combo, [])
        what = f"value tier {combo[0]}, risk grade {combo[1]}, loyalty grade {combo[2]}"
        if not rows and service_rows:
            problems.append(RuleProblem(service_rows[0].file, None, "coverage", f"gap: no service rule matches {what}"))
        for first, other in itertools.pairwise(rows):
            verb = "contradicts" if first["service_tier"] != other["service_tier"] else "overlaps"
            problems.append(RuleProblem(other.file, other.line, other["rule_id"],
                                        f"{verb} rule {first['rule_id']} (line {first.line}) on {what}: "
                                        f"{first['service_tier']} vs {other['service_tier']}"))

    # entitlements, triggers, settings
    for row in entitlement_rows:
        rule = f"{row['service_tier']}/{row['request_type']}"
        if row["target_unit"] not in TARGET_UNITS:
            problems.append(RuleProblem(row.file, row.line, rule, f"target_unit {row['target_unit']!r} not in {', '.join(TARGET_UNITS)}"))
        v = _number(row, "target_value", rule, problems)
        if v is not None and v <= 0:
            problems.append(RuleProblem(row.file, row.line, rule, "target_value must be positive"))
    for row in trigger_rows:
        if row["event_type"] not in EVENT_TYPES:
            problems.append(RuleProblem(row.file, row.line, row["event_type"], f"unknown event type (one of {', '.join(EVENT_TYPES)})"))
        for col in ("threshold", "window_days"):
            v = _number(row, col, row["event_type"], problems)
            if v is not None and v <= 0:
                problems.append(RuleProblem(row.file, row.line, row["event_type"], f"{col} must be positive"))
    settings = {r["setting"]: r for r in setting_rows}
    settings_file = str(seed_dir / "tier_settings.csv")
    for name in REQUIRED_SETTINGS:
        if name not in settings:
            problems.append(RuleProblem(settings_file, None, name, "setting missing"))
    layer_of: dict[str, str] = {}
    for layer in ("pyramid_top", "pyramid_middle", "pyramid_base"):
        row = settings.get(layer)
        for tier in _split(row["value"]) if row else []:
            if tier not in value_tiers:
                problems.append(RuleProblem(row.file, row.line, layer, f"unknown value tier {tier!r}"))
            elif tier in layer_of:
                problems.append(RuleProblem(row.file, row.line, layer, f"contradicts {layer_of[tier]}: value tier {tier} in two layers"))
            layer_of.setdefault(tier, layer)
    if all(name in settings for name in ("pyramid_top", "pyramid_middle", "pyramid_base")):
        for tier in sorted(value_tiers - set(layer_of)):
            problems.append(RuleProblem(settings_file, None, "pyramid", f"value tier {tier} is in no pyramid layer"))
    growth = settings.get("potential_growth_grade")
    if growth and growth["value"] not in grades.get("growth", set()):
        problems.append(RuleProblem(growth.file, growth.line, "potential_growth_grade", f"unknown growth grade {growth['value']!r}"))

    if problems:
        raise TierRuleError(problems)
    return {"value_tiers": value_tiers, "grades": grades, "service_tiers": service_tiers, "product_lines": product_lines}


def check_override_requests(seed_dir: Path | None = None) -> list[RuleProblem]:
    """Override requests that marts.tier_overrides will reject (never apply): each with file, line and reason."""
    problems: list[RuleProblem] = []
    for row in _read(Path(seed_dir or SEED_DIR), "tier_override_requests", problems):
        rule = f"override {row['override_id']} for {row['customer_id']}"
        risk, business, requester = row["risk_approved_by"], row["business_approved_by"], row["requested_by"]
        missing = [name for name, who in (("risk", risk), ("business", business)) if not who]
        if missing:
            problems.append(RuleProblem(row.file, row.line, rule, f"rejected: missing {' and '.join(missing)} approval"))
        elif requester and requester in (risk, business):
            problems.append(RuleProblem(row.file, row.line, rule, "rejected: approver is the requester"))
        elif risk == business:
            problems.append(RuleProblem(row.file, row.line, rule, "rejected: risk and business approval by one person"))
    return problems
