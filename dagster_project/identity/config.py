"""matching.yaml -> typed, validated configuration of identity resolution.

Every key is required and typed; an unknown key, a missing key or a value out of range raises
MatchingConfigError naming the key, so a bad edit fails the run before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml

CONFIG_PATH = Path(__file__).with_name("matching.yaml")

BLOCKING_RULES = ("mobile", "name_birth", "policy", "family_name", "id_one_off", "agent_name", "name")


class MatchingConfigError(ValueError):
    """matching.yaml does not describe a valid configuration."""


@dataclass(frozen=True)
class DeterministicConfig:
    id_typo_requires_name: bool
    same_bad_id: bool
    policy_self_relation: bool
    wechat_account: bool
    id_hash_typos: bool
    id_hash_typo_variants: bool


@dataclass(frozen=True)
class BlockingConfig:
    rules: tuple[str, ...]
    max_block_size: int
    name_max_block_size: int


@dataclass(frozen=True)
class LinkageConfig:
    link_probability: float
    mobile_alone_links: bool
    mobile_exclusive_links: bool
    mobile_exclusive_max_records: int
    mobile_exclusive_never_roles: tuple[str, ...]
    caller_policy_links: bool
    name_agent_links: bool
    name_typo_mobile_links: bool
    caller_policy_name_links: bool
    name_exclusive_links: bool
    minor_age_years: int
    ambiguity_margin_bits: float
    conflict_weight_bits: float
    common_name_holders: int
    smoothing: float
    pattern_pseudo_count: float
    max_training_pairs: int
    id_one_off_bits: float
    id_same_bad_bits: float
    id_conflict_bits: float


@dataclass(frozen=True)
class QualityConfig:
    duplicate_probability: float


@dataclass(frozen=True)
class EngineConfig:
    memory_limit_gb: float
    threads: int


@dataclass(frozen=True)
class MatchingConfig:
    deterministic: DeterministicConfig
    blocking: BlockingConfig
    linkage: LinkageConfig
    quality: QualityConfig
    engine: EngineConfig


def _section(doc: dict[str, Any], name: str, cls) -> Any:
    raw = doc.get(name)
    if not isinstance(raw, dict):
        raise MatchingConfigError(f"{name}: a mapping is required")
    names = {f.name: f for f in fields(cls)}
    unknown = sorted(set(raw) - set(names))
    if unknown:
        raise MatchingConfigError(f"{name}: unknown keys {unknown}")
    missing = sorted(set(names) - set(raw))
    if missing:
        raise MatchingConfigError(f"{name}: missing keys {missing}")
    values = {}
    for key, f in names.items():
        v = raw[key]
        where = f"{name}.{key}"
        if f.type == "bool":
            if not isinstance(v, bool):
                raise MatchingConfigError(f"{where}: true or false required, got {v!r}")
        elif f.type == "int":
            if isinstance(v, bool) or not isinstance(v, int):
                raise MatchingConfigError(f"{where}: an integer required, got {v!r}")
        elif f.type == "float":
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise MatchingConfigError(f"{where}: a number required, got {v!r}")
            v = float(v)
        elif f.type == "tuple[str, ...]":
            if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                raise MatchingConfigError(f"{where}: a list of names required, got {v!r}")
            v = tuple(v)
        values[key] = v
    return cls(**values)


def _check(cond: bool, message: str) -> None:
    if not cond:
        raise MatchingConfigError(message)


def parse_config(doc: Any) -> MatchingConfig:
    if not isinstance(doc, dict):
        raise MatchingConfigError("matching config: a mapping is required")
    sections = {f.name for f in fields(MatchingConfig)}
    unknown = sorted(set(doc) - sections)
    if unknown:
        raise MatchingConfigError(f"unknown sections {unknown}")
    cfg = MatchingConfig(
        deterministic=_section(doc, "deterministic", DeterministicConfig),
        blocking=_section(doc, "blocking", BlockingConfig),
        linkage=_section(doc, "linkage", LinkageConfig),
        quality=_section(doc, "quality", QualityConfig),
        engine=_section(doc, "engine", EngineConfig),
    )
    b, lk, q = cfg.blocking, cfg.linkage, cfg.quality
    bad = sorted(set(b.rules) - set(BLOCKING_RULES))
    _check(not bad, f"blocking.rules: unknown rules {bad} (known: {list(BLOCKING_RULES)})")
    _check(len(set(b.rules)) == len(b.rules), "blocking.rules: a rule is listed twice")
    _check(2 <= b.max_block_size <= 100_000, "blocking.max_block_size: between 2 and 100000")
    _check(2 <= b.name_max_block_size <= b.max_block_size, "blocking.name_max_block_size: between 2 and max_block_size")
    _check(0.5 <= lk.link_probability < 1.0, "linkage.link_probability: in [0.5, 1)")
    _check(0 <= lk.minor_age_years <= 30, "linkage.minor_age_years: in [0, 30]")
    _check(2 <= lk.mobile_exclusive_max_records <= 100_000, "linkage.mobile_exclusive_max_records: in [2, 100000]")
    _check(0.0 <= lk.ambiguity_margin_bits <= 30.0, "linkage.ambiguity_margin_bits: in [0, 30]")
    _check(-60.0 <= lk.conflict_weight_bits <= 0.0, "linkage.conflict_weight_bits: in [-60, 0]")
    _check(2 <= lk.common_name_holders <= 10_000, "linkage.common_name_holders: in [2, 10000]")
    _check(0.0 < lk.smoothing <= 100.0, "linkage.smoothing: in (0, 100]")
    _check(0.0 < lk.pattern_pseudo_count <= 1000.0, "linkage.pattern_pseudo_count: in (0, 1000]")
    _check(1_000 <= lk.max_training_pairs <= 50_000_000, "linkage.max_training_pairs: in [1000, 5e7]")
    _check(lk.id_one_off_bits > 0 and lk.id_same_bad_bits > 0, "linkage.id_one_off_bits / id_same_bad_bits: > 0")
    _check(lk.id_conflict_bits < 0, "linkage.id_conflict_bits: < 0")
    _check(0.0 < q.duplicate_probability < 1.0, "quality.duplicate_probability: in (0, 1)")
    _check(0.25 <= cfg.engine.memory_limit_gb <= 1024, "engine.memory_limit_gb: in [0.25, 1024]")
    _check(1 <= cfg.engine.threads <= 256, "engine.threads: in [1, 256]")
    return cfg


def load_config(path: str | Path = CONFIG_PATH) -> MatchingConfig:
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise MatchingConfigError(f"{path}: not valid YAML ({exc})") from exc
    try:
        return parse_config(doc)
    except MatchingConfigError as exc:
        raise MatchingConfigError(f"{path}: {exc}") from None
