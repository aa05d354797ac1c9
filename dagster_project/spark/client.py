"""Run a Spark job (jobs.py) in its own process and return its result."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from .jobs import RESULT_PREFIX


class SparkJobError(RuntimeError):
    pass


def run_spark_job(spec: dict, *, log_path: Path | None = None) -> dict:
    """Run `python -m dagster_project.spark.jobs <spec>`; its Spark output goes to `log_path`."""
    cmd = [sys.executable, "-m", "dagster_project.spark.jobs", json.dumps(spec)]
    done = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy())
    if log_path is not None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_path.write_text(done.stdout + "\n" + done.stderr, encoding="utf-8")
    for line in done.stdout.splitlines():
        if line.startswith(RESULT_PREFIX) and done.returncode == 0:
            return json.loads(line[len(RESULT_PREFIX):])
    tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-25:])
    raise SparkJobError(f"Spark job failed (exit {done.returncode}): {spec}\n{tail}")
