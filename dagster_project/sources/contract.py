"""The delivery contract (``contract.yaml``) loaded into typed, validated objects.

Every consumer of the contract (ingest, simulator, quality suites, dbt source generation)
goes through :func:`load_contract`; none of them restates a column list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

CONTRACT_PATH = Path(__file__).with_name("contract.yaml")

COLUMN_TYPES = {
    "string",
    "enum",
    "date",
    "timestamp",
    "epoch_ms",
    "integer",
    "decimal",
    "boolean",
    "json",
    "month",
}
FORMATS = {"csv", "jsonl", "json_array", "parquet"}

# Columns the ingest adds to every raw row (lineage). Names start with `_` so they can never
# collide with a delivered column.
LINEAGE_COLUMNS = {
    "_source_file": "landing-relative path of the delivered file",
    "_business_date": "business date of the delivery folder",
    "_row_number": "1-based row number of the record within its file (data rows, header excluded)",
    "_loaded_at": "UTC time the row was written to the raw layer",
    "_delivery_id": "fingerprint of the delivery folder the row came from (changes on re-delivery)",
}


class ContractError(ValueError):
    """The contract file itself is inconsistent."""


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool = True
    values: tuple[str, ...] | None = None
    format: str | None = None
    thousands_separator: bool = False
    min: float | None = None
    max: float | None = None


@dataclass(frozen=True)
class PersonRecordSpec:
    """How one entity's rows describe a person (SOURCES.md "Person-bearing records")."""

    role: str
    record_id: str  # a template such as "{policy_no}:holder"
    attributes: dict[str, str]  # identity attribute -> source column
    party_type_from: dict[str, Any] | None = None
    identifiable_when_any: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Entity:
    system: str
    name: str
    file: str
    format: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    version_columns: tuple[str, ...] = ()
    op_column: str | None = None
    encoding: str = "utf-8"
    delimiter: str = ","
    volume: str = "normal"
    delivered_on_day_of_month: int | None = None
    person_records: tuple[PersonRecordSpec, ...] = ()

    @property
    def qualified_name(self) -> str:
        """`<system>__<entity>`: the raw table / dbt source name."""
        return f"{self.system}__{self.name}"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.qualified_name} has no column {name!r}")


@dataclass(frozen=True)
class Contract:
    timezone: str
    success_marker: str
    max_lateness_days: int
    systems: dict[str, str]  # system -> description
    entities: tuple[Entity, ...] = field(default_factory=tuple)

    def entity(self, system: str, name: str) -> Entity:
        for e in self.entities:
            if e.system == system and e.name == name:
                return e
        raise KeyError(f"no entity {system}/{name} in the contract")

    def entities_of(self, system: str) -> list[Entity]:
        return [e for e in self.entities if e.system == system]

    @property
    def person_bearing_entities(self) -> list[Entity]:
        return [e for e in self.entities if e.person_records]


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, (list, tuple)):
        return tuple(str(v) for v in value)
    return (str(value),)


def _parse_column(where: str, raw: dict[str, Any]) -> Column:
    unknown = set(raw) - {"name", "type", "required", "values", "format", "thousands_separator", "min", "max"}
    if unknown:
        raise ContractError(f"{where}: unknown column keys {sorted(unknown)}")
    col = Column(
        name=str(raw["name"]),
        type=str(raw["type"]),
        required=bool(raw.get("required", True)),
        values=_as_tuple(raw["values"]) if "values" in raw else None,
        format=raw.get("format"),
        thousands_separator=bool(raw.get("thousands_separator", False)),
        min=raw.get("min"),
        max=raw.get("max"),
    )
    if col.type not in COLUMN_TYPES:
        raise ContractError(f"{where}.{col.name}: unknown type {col.type!r}")
    if col.type == "enum" and not col.values:
        raise ContractError(f"{where}.{col.name}: an enum needs `values`")
    return col


def parse_contract(doc: dict[str, Any]) -> Contract:
    entities: list[Entity] = []
    systems: dict[str, str] = {}
    for system, sdoc in doc["systems"].items():
        systems[system] = sdoc.get("description", "")
        for name, edoc in sdoc["entities"].items():
            where = f"{system}.{name}"
            columns = tuple(_parse_column(where, c) for c in edoc["columns"])
            names = [c.name for c in columns]
            if len(set(names)) != len(names):
                raise ContractError(f"{where}: duplicate column names")
            fmt = edoc["format"]
            if fmt not in FORMATS:
                raise ContractError(f"{where}: unknown format {fmt!r}")
            key = _as_tuple(edoc["key"])
            version = _as_tuple(edoc.get("version_column"))
            op = edoc.get("op_column")
            for ref in (*key, *version, *([op] if op else [])):
                if ref not in names:
                    raise ContractError(f"{where}: key/version/op column {ref!r} is not a column")
            people = []
            for p in edoc.get("person_records", []) or []:
                for attr, col in p["attributes"].items():
                    if col not in names:
                        raise ContractError(f"{where}: person attribute {attr} -> unknown column {col!r}")
                people.append(
                    PersonRecordSpec(
                        role=p["role"],
                        record_id=p["record_id"],
                        attributes=dict(p["attributes"]),
                        party_type_from=p.get("party_type_from"),
                        identifiable_when_any=_as_tuple(p.get("identifiable_when_any")) or None,
                    )
                )
            entities.append(
                Entity(
                    system=system,
                    name=name,
                    file=edoc["file"],
                    format=fmt,
                    columns=columns,
                    key=key,
                    version_columns=version,
                    op_column=op,
                    encoding=edoc.get("encoding", "utf-8"),
                    delimiter=edoc.get("delimiter", ","),
                    volume=edoc.get("volume", "normal"),
                    delivered_on_day_of_month=edoc.get("delivered_on_day_of_month"),
                    person_records=tuple(people),
                )
            )
    return Contract(
        timezone=doc["timezone"],
        success_marker=doc.get("success_marker", "_SUCCESS"),
        max_lateness_days=int(doc.get("max_lateness_days", 3)),
        systems=systems,
        entities=tuple(entities),
    )


@lru_cache(maxsize=4)
def load_contract(path: str | Path = CONTRACT_PATH) -> Contract:
    with open(path, encoding="utf-8") as fh:
        return parse_contract(yaml.safe_load(fh))
