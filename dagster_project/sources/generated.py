"""Files generated from the contract (dbt sources, GX suites): write them, or check they are current."""

from __future__ import annotations

import sys
from pathlib import Path


def sync_generated_files(outputs: dict[Path, str], *, check: bool, generator: str) -> int:
    """Write every file whose content differs; with `check`, write nothing and return 1 if any is stale."""
    stale = []
    for path, text in outputs.items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        if check:
            stale.append(path)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    for path in stale:
        print(f"stale: {path} (run {generator})", file=sys.stderr)
    return 1 if stale else 0
