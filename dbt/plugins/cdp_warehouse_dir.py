"""dbt-duckdb plugin: create the warehouse file's folder before DuckDB opens it.

DuckDB refuses to create a database in a folder that does not exist, so a first `dbt build`
on a fresh checkout (default path ../data/warehouse/cdp.duckdb) or with CDP_WAREHOUSE_PATH
pointing into a new folder would fail. Loaded through `plugins:` / `module_paths:` in
profiles.yml; a relative path is relative to the dbt project directory, where dbt runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin


class Plugin(BasePlugin):
    def update_connection_config(self, creds: Any, config: dict[str, Any]) -> None:
        path = str(getattr(creds, "path", "") or "")
        if path and path != ":memory:" and "://" not in path and not path.startswith("md:"):
            Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
