"""The tag dictionary (seed tag_dictionary), the tag profile model and its YAML agree: 50+ tags,
every field the dictionary needs, every category of the brief, one column per tag with the
tag's sensitivity as `meta.sensitivity`, and analyst views that carry no sensitive or
restricted tag. Every column of the tag and tier models is documented with a sensitivity."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import yaml

from dagster_project.settings import DBT_PROJECT_DIR

DICTIONARY = DBT_PROJECT_DIR / "seeds" / "tiering" / "tag_dictionary.csv"
PROFILE_SQL = DBT_PROJECT_DIR / "models" / "marts" / "tags" / "customer_tag_profile.sql"
YAMLS = {
    "tags": DBT_PROJECT_DIR / "models" / "marts" / "tags" / "_tags__models.yml",
    "tiering": DBT_PROJECT_DIR / "models" / "marts" / "tiering" / "_tiering__models.yml",
    "analyst": DBT_PROJECT_DIR / "models" / "analyst" / "tags" / "_analyst_tags__models.yml",
}
FIELDS = ["tag_code", "name_zh", "name_en", "definition", "category", "source_systems", "refresh_cadence", "sensitivity"]
CATEGORIES = {"demographics", "value", "risk", "engagement", "lifecycle", "channel", "needs", "service", "compliance"}
SENSITIVITIES = {"public", "internal", "sensitive", "restricted"}


def _dictionary() -> list[dict[str, str]]:
    with DICTIONARY.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _models(which: str) -> dict[str, dict]:
    return {m["name"]: m for m in yaml.safe_load(YAMLS[which].read_text(encoding="utf-8"))["models"]}


def test_the_dictionary_has_50_plus_complete_tags_across_every_category():
    tags = _dictionary()
    assert len(tags) >= 50
    assert list(tags[0].keys()) == FIELDS
    assert len({t["tag_code"] for t in tags}) == len(tags)
    for t in tags:
        assert all(t[f].strip() for f in FIELDS), t
        assert re.search(r"[\u4e00-\u9fff]", t["name_zh"]), t
        assert t["sensitivity"] in SENSITIVITIES, t
    assert {t["category"] for t in tags} == CATEGORIES
    assert {t["sensitivity"] for t in tags} == SENSITIVITIES


def test_the_profile_has_one_column_per_tag_with_its_sensitivity():
    tags = {t["tag_code"]: t for t in _dictionary()}
    sql_columns = re.findall(r"\bas ([a-z]{3}_[a-z0-9_]+),?\s*$", PROFILE_SQL.read_text(encoding="utf-8"), re.M)
    assert sorted(sql_columns) == sorted(tags)
    columns = {c["name"]: c for c in _models("tags")["customer_tag_profile"]["columns"]}
    assert set(columns) == set(tags) | {"customer_id", "as_of"}
    for code, tag in tags.items():
        assert columns[code]["meta"]["sensitivity"] == tag["sensitivity"], code


def test_analyst_views_carry_no_sensitive_or_restricted_tag():
    tags = {t["tag_code"]: t["sensitivity"] for t in _dictionary()}
    profile = _models("analyst")["analyst_customer_tag_profile"]
    shown = [c["name"] for c in profile["columns"] if c["name"] in tags]
    assert shown and all(tags[c] in ("public", "internal") for c in shown)
    assert set(shown) == {c for c, s in tags.items() if s in ("public", "internal")}
    for model in _models("analyst").values():
        assert all(c["meta"]["sensitivity"] in ("public", "internal") for c in model["columns"]), model["name"]


def test_every_column_is_described_with_a_sensitivity():
    for which in YAMLS:
        for model in _models(which).values():
            assert model.get("description"), model["name"]
            for column in model["columns"]:
                assert column.get("description"), (model["name"], column["name"])
                assert column.get("meta", {}).get("sensitivity") in SENSITIVITIES, (model["name"], column["name"])


def test_the_scoring_features_are_listed_once_in_step():
    """tiering_features() (used by customer_tier), the f_* columns of the features model and its YAML agree."""
    from dagster_project.tiering.rules import feature_columns

    macro = (DBT_PROJECT_DIR / "macros" / "tiering" / "tiering.sql").read_text(encoding="utf-8")
    listed = re.findall(r"'(f_[a-z_]+)'", macro[macro.index("macro tiering_features"):])
    sql = (DBT_PROJECT_DIR / "models" / "marts" / "tiering" / "int_tiering_customer_features.sql").read_text(encoding="utf-8")
    in_sql = re.findall(r"\bas (f_[a-z_]+)\b", sql)
    assert len(listed) == len(set(listed))
    assert set(listed) == set(in_sql) == feature_columns()
