"""What has arrived in the landing area: ``<landing>/<system>/<YYYY-MM-DD>/`` folders.

A folder is complete once the contract's success marker (``_SUCCESS``) is in it; its arrival
time is the marker's mtime. The delivery id fingerprints the folder's file names, sizes and
mtimes: stable while nothing changes, new when the date is re-delivered.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

from dagster_project.sources.contract import Contract, load_contract


@dataclass(frozen=True)
class Delivery:
    system: str
    business_date: date
    path: Path
    complete: bool
    arrived_at: datetime | None  # the success marker's mtime (UTC); None while arriving
    delivery_id: str
    files: tuple[str, ...]  # file names in the folder, sorted

    def to_metadata(self) -> dict[str, object]:
        return {
            "system": self.system,
            "business_date": self.business_date.isoformat(),
            "complete": self.complete,
            "arrived_at": self.arrived_at.isoformat() if self.arrived_at else None,
            "delivery_id": self.delivery_id,
            "files": list(self.files),
        }


def _parse_date(name: str) -> date | None:
    if len(name) != 10:
        return None
    try:
        return date.fromisoformat(name)
    except ValueError:
        return None


def delivery_fingerprint(folder: Path) -> tuple[str, tuple[str, ...]]:
    """(delivery id, sorted file names) of a delivery folder."""
    entries = sorted((p for p in folder.iterdir() if p.is_file()), key=lambda p: p.name)
    digest = hashlib.sha256()
    for p in entries:
        st = p.stat()
        digest.update(f"{p.name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16], tuple(p.name for p in entries)


def read_delivery(folder: Path, system: str, business_date: date, contract: Contract) -> Delivery:
    delivery_id, files = delivery_fingerprint(folder)
    marker = folder / contract.success_marker
    complete = marker.is_file()
    arrived_at = datetime.fromtimestamp(marker.stat().st_mtime, tz=timezone.utc) if complete else None
    return Delivery(system, business_date, folder, complete, arrived_at, delivery_id, files)


def find_delivery(
    landing_dir: Path, system: str, business_date: date, contract: Contract | None = None
) -> Delivery | None:
    """The delivery of one system and date, or None when its folder does not exist."""
    contract = contract or load_contract()
    folder = Path(landing_dir) / system / business_date.isoformat()
    if not folder.is_dir():
        return None
    return read_delivery(folder, system, business_date, contract)


def scan_landing(landing_dir: Path, contract: Contract | None = None) -> list[Delivery]:
    """Every ``<system>/<YYYY-MM-DD>/`` folder of the contract's systems, sorted by system and date.

    Folders of systems the contract does not know, and names that are not dates, are ignored.
    """
    contract = contract or load_contract()
    landing_dir = Path(landing_dir)
    found: list[Delivery] = []
    for system in sorted(contract.systems):
        system_dir = landing_dir / system
        if not system_dir.is_dir():
            continue
        for folder in sorted(system_dir.iterdir()):
            business_date = _parse_date(folder.name)
            if business_date is not None and folder.is_dir():
                found.append(read_delivery(folder, system, business_date, contract))
    return found
