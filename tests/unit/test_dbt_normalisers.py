"""The dbt normalisers, tested through dbt against a throwaway warehouse and an empty lake.

* every dbt unit test (`unit_tests:` in the staging YAML: ID, mobile, name, date, money and
  current-version cases) passes;
* the SQL of the resident-ID check (id_no_kind / id_no_canonical) agrees with python-stdnum
  (`stdnum.cn.ric`) on a few hundred random IDs, valid and corrupted.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from stdnum.cn import ric

from dagster_project.settings import DBT_PROJECT_DIR

# area codes python-stdnum knows for every birth year used here (it also checks the place)
AREAS = [110101, 110105, 310101, 310104]
WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def _dbt_executable() -> str:
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


@pytest.fixture(scope="module")
def dbt(tmp_path_factory):
    """Run dbt commands against a warehouse and an (empty) lake in a temp directory."""
    tmp = tmp_path_factory.mktemp("dbt")
    env = {
        **os.environ,
        "CDP_WAREHOUSE_PATH": str(tmp / "warehouse.duckdb"),
        "CDP_LAKE_DIR": str(tmp / "lake"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "CDP_TOKEN_SALT": "unit-test-salt",  # the analyst models' pseudonym tokens need a salt
    }
    common = ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
              "--target-path", str(tmp / "target"), "--log-path", str(tmp / "logs")]

    def run(*args: str) -> subprocess.CompletedProcess:
        cmd = [_dbt_executable(), *args[:1], *common, *args[1:]]
        return subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=DBT_PROJECT_DIR, timeout=300)

    return run


def test_dbt_unit_tests_pass_on_an_empty_lake(dbt):
    # Unit tests read the column types of their inputs from the warehouse: build seeds and
    # (empty) models first. On an empty lake the raw views are typed, empty relations.
    built = dbt("build", "--empty", "--resource-type", "seed", "--resource-type", "snapshot", "--resource-type", "model")
    assert built.returncode == 0, built.stdout[-5000:] + built.stderr[-2000:]
    tested = dbt("test", "--select", "test_type:unit")
    assert tested.returncode == 0, tested.stdout[-8000:] + tested.stderr[-2000:]
    assert "PASS=" in tested.stdout and " ERROR=0" in tested.stdout


def _check_char(body17: str) -> str:
    return "10X98765432"[sum(int(d) * w for d, w in zip(body17, WEIGHTS)) % 11]


def _random_ids(n: int, seed: int = 20240301) -> list[str]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        born = date(1930, 1, 1) + timedelta(days=rng.randrange(0, 90 * 365))
        body = f"{rng.choice(AREAS)}{born:%Y%m%d}{rng.randrange(1000):03d}"
        good = body + _check_char(body)
        kind = i % 5
        if kind == 0:
            out.append(good)
        elif kind == 1:  # mistyped check character
            out.append(body + rng.choice([c for c in "0123456789X" if c != good[-1]]))
        elif kind == 2:  # one body digit mistyped (the check usually catches it)
            pos = rng.randrange(14, 17)
            out.append(good[:pos] + str((int(good[pos]) + rng.randrange(1, 10)) % 10) + good[pos + 1:])
        elif kind == 3:  # 15-digit legacy form of a 20th-century birth
            legacy = f"{body[:6]}{born:%y%m%d}{body[14:17]}"
            out.append(legacy if born.year < 2000 else good.lower())
        else:  # lowercase x / untouched
            out.append(good.lower())
    return out


def test_id_check_digit_sql_agrees_with_stdnum(dbt):
    sql = (
        "select id_no, {{ id_no_canonical(id_no_clean('id_no')) }} as canonical, "
        "{{ id_no_kind(id_no_clean('id_no')) }} as kind from ids"
    )
    compiled = dbt("compile", "--quiet", "--output", "json", "--inline", sql)
    assert compiled.returncode == 0, compiled.stdout[-3000:] + compiled.stderr[-2000:]
    query = json.loads(compiled.stdout)["compiled"]

    ids = _random_ids(400)
    con = duckdb.connect()
    con.execute("create table ids (id_no varchar)")
    con.executemany("insert into ids values (?)", [[i] for i in ids])
    rows = con.execute(query).fetchall()
    assert len(rows) == len(ids)
    kinds = {}
    for id_no, canonical, kind in rows:
        kinds[kind] = kinds.get(kind, 0) + 1
        if len(id_no) == 15:
            # stdnum has no 15-digit form: the SQL upgrade must give the ID stdnum accepts
            assert kind == "upgraded_15", id_no
            assert ric.is_valid(canonical), (id_no, canonical)
            assert canonical[:6] + canonical[8:17] == id_no and canonical[6:8] == "19", (id_no, canonical)
        else:
            assert canonical == id_no.upper()
            assert ric.is_valid(canonical) == (kind == "valid"), (id_no, kind)
            assert kind in {"valid", "bad_check_digit"}, (id_no, kind)
    assert kinds.get("valid", 0) > 100 and kinds.get("bad_check_digit", 0) > 100 and kinds.get("upgraded_15", 0) > 20
