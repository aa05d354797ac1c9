"""dbt-duckdb plugin: the warehouse file's folder, and its encryption key.

- DuckDB refuses to create a database in a folder that does not exist, so a first `dbt build`
  on a fresh checkout (default path ../data/warehouse/cdp.duckdb) or with CDP_WAREHOUSE_PATH
  pointing into a new folder would fail: the folder is created first.
- With CDP_WAREHOUSE_KEY set, the warehouse is an encrypted DuckDB file: the connection opens an
  in-memory database, ATTACHes the file with the key under the name dbt knows it by (the file
  stem) and USEs it. The key comes from the environment only (see the README, "Privacy").

Loaded through `plugins:` / `module_paths:` in profiles.yml; a relative path is relative to the
dbt project directory, where dbt runs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class Plugin(BasePlugin):
    encrypted_path: str | None = None

    def update_connection_config(self, creds: Any, config: dict[str, Any]) -> None:
        path = str(getattr(creds, "path", "") or "")
        if path and path != ":memory:" and "://" not in path and not path.startswith("md:"):
            Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
            if os.environ.get("CDP_WAREHOUSE_KEY"):
                type(self).encrypted_path = str(Path(path).expanduser().resolve())
                creds.path = ":memory:"  # the file is attached with its key in configure_connection

    def configure_connection(self, conn: Any) -> None:
        key = os.environ.get("CDP_WAREHOUSE_KEY")
        if not (self.encrypted_path and key):
            return
        try:
            conn.execute("LOAD httpfs")  # OpenSSL: secure writes
        except Exception:
            if os.environ.get("CDP_WAREHOUSE_ALLOW_MBEDTLS", "") not in ("1", "true", "yes"):
                raise RuntimeError("writing an encrypted warehouse needs DuckDB's httpfs extension (run "
                                   "`INSTALL httpfs` once) or CDP_WAREHOUSE_ALLOW_MBEDTLS=1") from None
            conn.execute("SET force_mbedtls_unsafe = true")
        stem = Path(self.encrypted_path).stem
        conn.execute(f"SET temp_directory = {_lit(self.encrypted_path + '.tmp')}")
        conn.execute(f'ATTACH IF NOT EXISTS {_lit(self.encrypted_path)} AS "{stem}" (ENCRYPTION_KEY {_lit(key)})')
        conn.execute(f'USE "{stem}"')

    def configure_cursor(self, cursor: Any) -> None:
        # every cursor is a new DuckDB connection whose default catalog is the in-memory one
        if self.encrypted_path and os.environ.get("CDP_WAREHOUSE_KEY"):
            cursor.execute(f'USE "{Path(self.encrypted_path).stem}"')
