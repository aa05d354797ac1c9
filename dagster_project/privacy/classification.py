"""Column sensitivity: every column of every dbt model carries `meta: {sensitivity: ...}`.

`check_manifest` reads `dbt/target/manifest.json` (written by `dbt parse`) and lists every model
column without a valid level; `require_classification` raises with the model and column named.
`cdp build` and the `dbt_warehouse` asset run it before `dbt build`, so a model added later
without levels fails the build. `python -m dagster_project.privacy.classification` runs it
from the command line (exit 1 on a missing level).

The levels and the name patterns for the generated raw source live in `classification.yaml`.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

CLASSIFICATION_YAML = Path(__file__).with_name("classification.yaml")
SENSITIVITY = "sensitivity"


@dataclass(frozen=True)
class Classification:
    levels: tuple[str, ...]
    patterns: tuple[tuple[re.Pattern[str], str], ...]

    def suggest(self, column: str) -> str:
        """The level the patterns give a column name (internal when none matches)."""
        for pattern, level in self.patterns:
            if pattern.fullmatch(column):
                return level
        return "internal"

    def rank(self, level: str) -> int:
        return self.levels.index(level)


@lru_cache(maxsize=1)
def load_classification(path: Path = CLASSIFICATION_YAML) -> Classification:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    levels = tuple(doc["levels"])
    patterns = []
    for i, p in enumerate(doc["patterns"]):
        if p["level"] not in levels:
            raise ValueError(f"{path}: pattern {i + 1} ({p['pattern']}) has unknown level {p['level']!r}")
        patterns.append((re.compile(p["pattern"]), p["level"]))
    return Classification(levels, tuple(patterns))


def column_sensitivity(column: dict[str, Any]) -> str | None:
    """The level of a manifest column (`meta` or `config.meta`), None when absent."""
    for meta in (column.get("meta") or {}, (column.get("config") or {}).get("meta") or {}):
        if meta.get(SENSITIVITY):
            return str(meta[SENSITIVITY])
    return None


@dataclass(frozen=True)
class Unclassified:
    model: str
    column: str
    value: str | None  # None: no level; else the invalid value
    path: str

    def __str__(self) -> str:
        what = "has no meta.sensitivity" if self.value is None else f"has an unknown sensitivity {self.value!r}"
        return f"model {self.model} column {self.column} {what} ({self.path})"


def check_manifest(manifest: dict[str, Any] | Path) -> list[Unclassified]:
    """Every model column of the manifest without a valid sensitivity level."""
    if isinstance(manifest, Path):
        manifest = json.loads(manifest.read_text(encoding="utf-8"))
    levels = load_classification().levels
    problems = []
    for node in manifest["nodes"].values():
        if node.get("resource_type") != "model":
            continue
        path = node.get("patch_path") or node.get("original_file_path") or ""
        path = path.split("://", 1)[-1]
        if not node.get("columns"):
            problems.append(Unclassified(node["name"], "(no columns described)", None, path))
        for name, column in node["columns"].items():
            level = column_sensitivity(column)
            if level not in levels:
                problems.append(Unclassified(node["name"], name, level, path))
    return problems


class UnclassifiedColumnsError(RuntimeError):
    pass


def require_classification(manifest_path: Path) -> int:
    """Raise naming every unclassified model column; else the number of classified columns."""
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    problems = check_manifest(manifest)
    if problems:
        lines = "\n".join(f"  - {p}" for p in problems[:50])
        more = f"\n  ... and {len(problems) - 50} more" if len(problems) > 50 else ""
        raise UnclassifiedColumnsError(
            f"{len(problems)} model column(s) without a sensitivity level (every column needs "
            f"`meta: {{sensitivity: public|internal|sensitive|restricted}}` in its model YAML; see "
            f"dagster_project/privacy/classification.yaml):\n{lines}{more}")
    return sum(len(n["columns"]) for n in manifest["nodes"].values() if n.get("resource_type") == "model")


def model_sensitivities(manifest: dict[str, Any]) -> dict[tuple[str, str], dict[str, str]]:
    """(schema, model) -> {column: level} for every model of the manifest."""
    out: dict[tuple[str, str], dict[str, str]] = {}
    for node in manifest["nodes"].values():
        if node.get("resource_type") == "model":
            out[(node["schema"], node.get("alias") or node["name"])] = {
                name: column_sensitivity(c) or "" for name, c in node["columns"].items()}
    return out


def main(argv: list[str] | None = None) -> int:
    from ..transform.dbt_assets import parse_dbt_project

    parser = argparse.ArgumentParser(description="Fail when a dbt model column has no sensitivity level.")
    parser.add_argument("--no-parse", action="store_true", help="read the existing manifest, do not run dbt parse")
    args = parser.parse_args(argv)
    from ..transform.dbt_assets import MANIFEST_PATH

    path = MANIFEST_PATH if args.no_parse else parse_dbt_project()
    try:
        n = require_classification(path)
    except UnclassifiedColumnsError as e:
        print(e, file=sys.stderr)
        return 1
    print(f"{n} model columns classified")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
