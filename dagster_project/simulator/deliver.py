"""Deliveries: which versions land in which folder, when each folder arrives, and the defects.

- Each system's first folder (its own start date) carries the latest version of every record
  changed on or before that date (op `D` excluded): the initial load. Later folders carry the
  versions of their business date.
- Every folder holds every entity file of its system and ends with `_SUCCESS`, whose mtime (and
  that of every file in the folder) is the simulated arrival: the next day 01:00-06:00
  Asia/Shanghai, 2-3 days later for late folders.
- Re-delivered folders: the first delivery (a truncated extract) goes to
  `<truth>/superseded/<system>/<date>/`, the corrected one to the landing.
- Defects are injected into exact rows of landing files and listed in the manifest.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dagster_project.sources.contract import Contract, Entity

from . import formats as F
from .calendar import MS_DAY, MS_HOUR, UTC_OFFSET_MS, Window, to_date
from .world import rng_for

DEFECT_COUNTS = {
    "default": {"malformed_row": 4, "required_missing": 3, "bad_enum": 3, "bad_date": 3, "extra_column": 3,
                "redelivery": 2, "late_folder": 3, "late_start": 2},
    "high": {"malformed_row": 12, "required_missing": 10, "bad_enum": 10, "bad_date": 10, "extra_column": 6,
             "redelivery": 4, "late_folder": 6, "late_start": 2},
}
EXTRA_COLUMN_NAMES = ("ext_batch_no", "crm_tag", "src_region")
TEXT_FORMATS = ("csv", "jsonl", "json_array")
TEMPORAL = ("date", "timestamp", "epoch_ms", "month")


def iso_local(ms: int) -> str:
    """Local milliseconds -> ISO-8601 with +08:00."""
    day, rest = divmod(int(ms), MS_DAY)
    secs = rest // 1000
    return f"{to_date(day).isoformat()}T{secs // 3600:02d}:{secs // 60 % 60:02d}:{secs % 60:02d}+08:00"


@dataclass
class Folder:
    system: str
    day: int  # epoch day
    arrival_ms: int  # local ms
    late: bool = False
    redelivered_ms: int | None = None  # arrival of the corrected delivery
    files: dict[str, int] = field(default_factory=dict)
    superseded: dict[str, int] = field(default_factory=dict)

    @property
    def date(self) -> str:
        return to_date(self.day).isoformat()


class Plan:
    """Every decision about folders and defects, drawn up front from the seed."""

    def __init__(self, contract: Contract, window: Window, seed: int, noise: str):
        rng = rng_for(seed, "deliver/plan")
        self.counts = DEFECT_COUNTS[noise]
        systems = list(contract.systems)
        self.first_day = {s: window.start for s in systems}
        hi = min(4, window.days - 1)
        n_late_start = self.counts["late_start"] if window.days >= 6 else (1 if window.days >= 3 else 0)
        if n_late_start:
            candidates = [s for s in systems if s != "policy_admin"]
            for s in rng.choice(candidates, n_late_start, replace=False):
                self.first_day[str(s)] = window.start + int(rng.integers(min(2, hi), hi + 1))
        self.folders: dict[tuple[str, int], Folder] = {}
        for s in systems:
            for day in range(self.first_day[s], window.end):
                arrival = (day + 1) * MS_DAY + int(rng.integers(3600, 6 * 3600)) * 1000
                self.folders[(s, day)] = Folder(s, day, arrival)
        later = [k for k in self.folders if k[1] > self.first_day[k[0]]]
        pick = rng.permutation(len(later))
        n_re, n_late = self.counts["redelivery"], self.counts["late_folder"]
        for i in pick[:n_re]:
            f = self.folders[later[i]]
            f.redelivered_ms = f.arrival_ms + 20 * MS_HOUR + int(rng.integers(0, 6 * 3600)) * 1000
        for i in pick[n_re:n_re + n_late]:
            f = self.folders[later[i]]
            f.late = True
            f.arrival_ms += int(rng.integers(2, 4)) * MS_DAY
        self.rng = rng
        self.contract = contract
        self.window = window
        self.assign_defects()

    def assign_defects(self):
        """Each row-level defect goes to one entity (its folder and row are chosen at write time)."""
        ents = list(self.contract.entities)
        eligible = {
            "malformed_row": [e for e in ents if e.format in ("csv", "jsonl")],
            "required_missing": [e for e in ents if _required_targets(e)],
            "bad_enum": [e for e in ents if any(c.type == "enum" for c in e.columns)],
            "bad_date": [e for e in ents if e.format in TEXT_FORMATS and any(c.type in TEMPORAL for c in e.columns)],
            "extra_column": ents,
        }
        self.defects_for: dict[str, list[str]] = defaultdict(list)
        for kind, pool in eligible.items():
            for i in self.rng.choice(len(pool), self.counts[kind], replace=kind != "extra_column"):
                self.defects_for[pool[i].qualified_name].append(kind)

    def days_of(self, system: str) -> list[int]:
        return [d for (s, d) in self.folders if s == system]


def _required_targets(e: Entity) -> list[str]:
    """Required columns a defect may blank: not the key (the row would have no identity)."""
    return [c.name for c in e.columns if c.required and c.name not in e.key and c.name != e.op_column]


def folder_rows(table: pa.Table, entity: Entity, first_day: int, end: int) -> tuple[np.ndarray, np.ndarray]:
    """Row indices delivered and their folder day (initial load: latest version per key)."""
    day = table.column("_day").to_numpy()
    key = table.column("_key").to_numpy()
    ts = table.column("_ts").to_numpy()
    initial = np.nonzero(day <= first_day)[0]
    order = initial[np.lexsort((initial, ts[initial], key[initial]))]
    last = np.r_[key[order][1:] != key[order][:-1], True] if len(order) else np.zeros(0, bool)
    init_rows = order[last]
    if entity.op_column:
        op = table.column(entity.op_column).to_numpy(zero_copy_only=False)
        init_rows = init_rows[op[init_rows] != "D"]
    later = np.nonzero((day > first_day) & (day < end))[0]
    rows = np.concatenate([init_rows, later])
    fday = np.concatenate([np.full(len(init_rows), first_day), day[later]])
    order = np.lexsort((rows, ts[rows], fday))
    return rows[order], fday[order]


class EntityWriter:
    """Writes one entity's files into every folder of its system, with its planned defects."""

    def __init__(self, con, plan: Plan, entity: Entity, table: pa.Table, landing: Path, truth: Path, seed: int):
        self.con, self.plan, self.entity = con, plan, entity
        self.landing, self.truth = landing, truth
        self.rng = rng_for(seed, "deliver/" + entity.qualified_name)
        first = plan.first_day[entity.system]
        rows, fday = folder_rows(table, entity, first, plan.window.end)
        self.table = table.take(pa.array(rows))
        self.fday = fday
        self.days = plan.days_of(entity.system)
        bounds = np.searchsorted(fday, np.array(self.days + [plan.window.end]), side="left")
        self.slices = {d: (int(bounds[i]), int(bounds[i + 1])) for i, d in enumerate(self.days)}
        self.defects: list[dict] = []
        if entity.format in TEXT_FORMATS:
            thousands = None
            if any(c.thousands_separator for c in entity.columns):
                thousands = self.rng.random(len(self.table)) < 0.3
            self.fragments = F.render_fragments(con, entity, self.table, thousands)

    # defects --------------------------------------------------------------------------------
    def _plan_defects(self) -> dict[int, list[dict]]:
        """Place each planned defect of this entity at a folder and row."""
        by_day: dict[int, list[dict]] = defaultdict(list)
        kinds = self.plan.defects_for.get(self.entity.qualified_name, [])
        nonempty = [d for d in self.days if self.slices[d][1] > self.slices[d][0]]
        used: set[tuple[int, int]] = set()
        for kind in kinds:
            if not nonempty:
                continue
            day = nonempty[int(self.rng.integers(0, len(nonempty)))]
            lo, hi = self.slices[day]
            if kind == "extra_column":
                if any(d["kind"] == "extra_column" for d in by_day[day]):
                    continue
                by_day[day].append({"kind": kind, "row_number": None,
                                    "column": EXTRA_COLUMN_NAMES[int(self.rng.integers(0, len(EXTRA_COLUMN_NAMES)))]})
                continue
            row = int(self.rng.integers(0, hi - lo))
            if (day, row) in used:
                continue
            column = self._defect_column(kind, lo + row)
            if column is None and kind != "malformed_row":
                continue
            used.add((day, row))
            by_day[day].append({"kind": kind, "row_number": row + 1, "column": column})
        return by_day

    def _defect_column(self, kind: str, abs_row: int) -> str | None:
        e = self.entity
        if kind == "required_missing":
            options = _required_targets(e)
        elif kind == "bad_enum":
            options = [c.name for c in e.columns if c.type == "enum"]
        elif kind == "bad_date":
            options = [c.name for c in e.columns if c.type in TEMPORAL and c.required]
        else:
            return None
        return options[int(self.rng.integers(0, len(options)))] if options else None

    def _bad_value(self, kind: str, column: str) -> str | None:
        col = self.entity.column(column)
        if kind == "required_missing":
            return None
        if kind == "bad_enum":
            return "UNKNOWN" if col.values and all(len(v) <= 2 for v in col.values) else "unknown_value"
        # an unparseable date in the column's own shape
        if col.type == "epoch_ms":
            return "2025-13-45 25:61"
        fmt = col.format or "%Y-%m-%d"
        if fmt == "iso8601":
            return "2025-13-45T25:61:00+08:00"
        return (fmt.replace("%Y", "2025").replace("%m", "13").replace("%d", "45")
                .replace("%H", "25").replace("%M", "61").replace("%S", "61"))

    # writing --------------------------------------------------------------------------------
    def write_all(self) -> list[dict]:
        planned = self._plan_defects()
        for day in self.days:
            lo, hi = self.slices[day]
            folder = self.plan.folders[(self.entity.system, day)]
            defects = planned.get(day, [])
            path = self.landing / self.entity.system / folder.date / self.entity.file
            self._write(path, lo, hi, defects)
            folder.files[self.entity.file] = hi - lo
            for d in defects:
                self.defects.append({"kind": d["kind"], "system": self.entity.system, "entity": self.entity.name,
                                     "business_date": folder.date, "file": f"{self.entity.system}/{folder.date}/{self.entity.file}",
                                     "row_number": d["row_number"], "column": d["column"]})
            if folder.redelivered_ms is not None:
                keep = int(np.floor((hi - lo) * self.rng.uniform(0.5, 0.9)))
                sup = self.truth / "superseded" / self.entity.system / folder.date / self.entity.file
                self._write(sup, lo, lo + keep, [])
                folder.superseded[self.entity.file] = keep
        return self.defects

    def _write(self, path: Path, lo: int, hi: int, defects: list[dict]) -> None:
        extra = [d["column"] for d in defects if d["kind"] == "extra_column"]
        if self.entity.format == "parquet":
            F.write_bytes(path, F.parquet_bytes(self._parquet_slice(lo, hi, defects, extra)))
            return
        frag = self.fragments.slice(lo, hi - lo)
        for d in defects:
            if d["kind"] in ("required_missing", "bad_enum", "bad_date"):
                frag = self._replace_fragment(frag, d["column"], d["row_number"] - 1, self._bad_value(d["kind"], d["column"]))
        for name in extra:
            values = pa.array(np.where(self.rng.random(hi - lo) < 0.5, "B" + str(self.rng.integers(1000, 9999)), ""))
            if self.entity.format != "csv":
                values = pc.binary_join_element_wise(pa.scalar('"'), values, pa.scalar('"'), "")
            frag = frag.append_column(name, values)
        lines = F.join_lines(self.entity, frag, extra)
        for d in defects:
            if d["kind"] == "malformed_row":
                i = d["row_number"] - 1
                line = lines[i].as_py()
                bad = (line + self.entity.delimiter + "x" + self.entity.delimiter + "y" if self.entity.format == "csv"
                       else line[: max(1, len(line) // 2)])
                lines = pc.if_else(pa.array(np.arange(len(lines)) == i), pa.scalar(bad), lines)
        F.write_bytes(path, F.lines_to_bytes(self.entity, lines, extra))

    def _replace_fragment(self, frag: pa.Table, column: str, row: int, value: str | None) -> pa.Table:
        literal = F.csv_literal(value, self.entity.delimiter) if self.entity.format == "csv" else F.json_literal(value)
        if value is None and self.entity.format == "csv":
            literal = ""
        idx = frag.column_names.index(column)
        col = frag.column(column).combine_chunks()
        new = pc.if_else(pa.array(np.arange(len(col)) == row), pa.scalar(literal), col)
        return frag.set_column(idx, column, new)

    def _parquet_slice(self, lo: int, hi: int, defects: list[dict], extra: list[str]) -> pa.Table:
        t = F.parquet_table(self.entity, self.table.slice(lo, hi - lo), self.plan.contract.timezone)
        for d in defects:
            if d["kind"] in ("required_missing", "bad_enum"):
                name = d["column"]
                idx = t.column_names.index(name)
                col = t.column(name).combine_chunks()
                mask = pa.array(np.arange(len(col)) == d["row_number"] - 1)
                value = pa.scalar(self._bad_value(d["kind"], name), col.type) if d["kind"] == "bad_enum" else pa.scalar(None, col.type)
                t = t.set_column(idx, t.schema.field(idx), pc.if_else(mask, value, col))
        for name in extra:
            t = t.append_column(name, pa.array(np.where(self.rng.random(len(t)) < 0.5, "B1001", None), pa.string()))
        return t

    # truth ------------------------------------------------------------------------------------
    def person_records(self) -> pa.Table | None:
        """(source_system, source_record_id, party) for every delivered person-bearing row."""
        parts = []
        for spec in self.entity.person_records:
            t = self.table
            if spec.identifiable_when_any:
                mask = None
                for c in spec.identifiable_when_any:
                    valid = pc.is_valid(t.column(c))
                    mask = valid if mask is None else pc.or_(mask, valid)
                t = t.filter(mask)
            rid = render_template(spec.record_id, t)
            parts.append(pa.table({
                "source_system": pa.array([self.entity.system] * len(t), pa.string()),
                "source_entity": pa.array([self.entity.name] * len(t), pa.string()),
                "role": pa.array([spec.role] * len(t), pa.string()),
                "source_record_id": rid,
                "party": t.column(f"_party_{spec.role}"),
            }))
        return pa.concat_tables(parts) if parts else None


def render_template(template: str, table: pa.Table) -> pa.Array:
    """'{policy_no}:holder' -> one string per row, from the table's columns."""
    pieces = []
    for literal, name in re.findall(r"([^{]*)(?:\{(\w+)\})?", template):
        if literal:
            pieces.append(pa.scalar(literal))
        if name:
            pieces.append(pc.cast(table.column(name), pa.string()).combine_chunks())
    if len(pieces) == 1 and isinstance(pieces[0], pa.Array):
        return pieces[0]
    return pc.binary_join_element_wise(*pieces, "")


def finish_folders(plan: Plan, landing: Path, truth: Path) -> None:
    """Write `_SUCCESS` last in every folder and stamp the simulated arrival on everything."""
    marker = plan.contract.success_marker
    for f in plan.folders.values():
        final_ms = f.redelivered_ms if f.redelivered_ms is not None else f.arrival_ms
        _seal(landing / f.system / f.date, marker, final_ms)
        if f.redelivered_ms is not None:
            _seal(truth / "superseded" / f.system / f.date, marker, f.arrival_ms)


def _seal(folder: Path, marker: str, local_ms: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / marker).write_bytes(b"")
    epoch_s = (local_ms - UTC_OFFSET_MS) / 1000
    for p in sorted(folder.iterdir()):
        if p.name != marker:
            os.utime(p, (epoch_s - 60, epoch_s - 60))
    os.utime(folder / marker, (epoch_s, epoch_s))
