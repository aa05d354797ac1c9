"""`dagster dev` from the repo root loads every asset, check, schedule and sensor."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from dagster_project.settings import REPO_ROOT
from dagster_project.sources.contract import load_contract

QUERY = """
{
  repositoriesOrError {
    ... on RepositoryConnection {
      nodes {
        name
        schedules { name scheduleState { status } }
        sensors { name sensorState { status } }
        jobs { name }
      }
    }
  }
  assetNodes { assetKey { path } assetChecksOrError { ... on AssetChecks { checks { name } } } }
}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _restore_signals() -> None:
    # a background `dagster dev` otherwise ignores SIGINT/SIGTERM
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _graphql(port: int) -> dict:
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": QUERY}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


@pytest.mark.slow
def test_dagster_dev_loads_the_whole_platform(tmp_path):
    port = _free_port()
    env = dict(os.environ, DAGSTER_HOME=str(tmp_path / "dagster_home"), CDP_DATA_DIR=str(tmp_path))
    Path(env["DAGSTER_HOME"]).mkdir()
    (Path(env["DAGSTER_HOME"]) / "dagster.yaml").write_bytes((REPO_ROOT / "dagster.yaml").read_bytes())
    dagster = Path(sys.executable).with_name("dagster")
    proc = subprocess.Popen(
        [str(dagster), "dev", "-p", str(port), "-h", "127.0.0.1"],
        cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        preexec_fn=_restore_signals, start_new_session=True,
    )
    try:
        deadline = time.time() + 180
        data = None
        while time.time() < deadline:
            try:
                data = _graphql(port)["data"]
                if data["assetNodes"]:
                    break
            except (OSError, KeyError, TypeError):
                pass
            time.sleep(2)
        assert data and data["assetNodes"], "dagster dev did not load the code location in 180 s"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)

    repo = data["repositoriesOrError"]["nodes"][0]
    assert {s["name"]: s["scheduleState"]["status"] for s in repo["schedules"]} == {
        "daily_build_schedule": "RUNNING", "churn_retraining_schedule": "RUNNING"}
    assert {s["name"]: s["sensorState"]["status"] for s in repo["sensors"]} == {"landing_sensor": "RUNNING"}
    assert {"ingest", "transform", "daily_build", "churn_training"} <= {j["name"] for j in repo["jobs"]}
    nodes = {"/".join(n["assetKey"]["path"]): n for n in data["assetNodes"]}
    for e in load_contract().entities:
        raw = nodes[f"raw/{e.system}/{e.name}"]
        checks = {c["name"] for c in raw["assetChecksOrError"]["checks"]}
        assert {"rows_reconcile", "contract_conformance", "quarantine_rate"} <= checks
        # the quality layer's suite (generated from the contract) and delivery SLAs
        assert {"gx_schema", "gx_required_not_null", "gx_key_unique", "sla_delivery_freshness", "sla_volume"} <= checks
        assert f"staging/stg_{e.qualified_name}" in nodes
