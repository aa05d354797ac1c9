"""Set up the project on a machine with only Python 3.11, then run the demo or the tests.

    python3.11 -m dagster_project.bootstrap demo   # set up, simulate the default dataset, full build
    python3.11 -m dagster_project.bootstrap test   # set up, run the test suite

Standard library only (it runs before anything is installed). Setup creates `.venv`, installs
uv into it, installs the locked dependencies (requirements.lock) and the project, and parses
the dbt project. It is skipped when the lock and pyproject are unchanged since the last setup.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
BIN = VENV / "bin"
UV_VERSION = "0.13.8"
STAMP = VENV / ".cdp-setup"


def _run(cmd: list[str], **kw) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, cwd=ROOT, **kw)


def _fingerprint() -> str:
    h = hashlib.sha256()
    for name in ("requirements.lock", "pyproject.toml"):
        h.update((ROOT / name).read_bytes())
    return h.hexdigest()


def setup() -> None:
    if sys.version_info[:2] != (3, 11):
        sys.exit(f"Python 3.11 is required, this is {sys.version.split()[0]}")
    if not (BIN / "python").exists():
        _run([sys.executable, "-m", "venv", VENV])
    if STAMP.exists() and STAMP.read_text() == _fingerprint():
        return
    if not (BIN / "uv").exists():
        # a venv made by another tool (uv venv, virtualenv --without-pip) may lack pip
        if subprocess.run([BIN / "python", "-m", "pip", "--version"], capture_output=True).returncode:
            _run([BIN / "python", "-m", "ensurepip", "--upgrade"])
        _run([BIN / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check", f"uv=={UV_VERSION}"])
    _run([BIN / "uv", "pip", "install", "--quiet", "--python", BIN / "python", "-r", "requirements.lock"])
    _run([BIN / "uv", "pip", "install", "--quiet", "--python", BIN / "python", "--no-deps", "-e", "."])
    _run([BIN / "dbt", "parse", "--quiet", "--project-dir", "dbt", "--profiles-dir", "dbt"])
    STAMP.write_text(_fingerprint())


def main(argv: list[str]) -> int:
    what = argv[0] if argv else "setup"
    if what not in {"setup", "demo", "test"}:
        sys.exit("usage: python3.11 -m dagster_project.bootstrap [setup|demo|test] [extra args]")
    setup()
    env = dict(os.environ)
    if what == "demo":
        os.execve(BIN / "cdp", [str(BIN / "cdp"), "demo", *argv[1:]], env)
    if what == "test":
        os.chdir(ROOT)
        args = argv[1:]
        if not any(a.startswith(("-n", "--numprocesses")) for a in args):
            # One xdist worker per core (at most 4) shares out the test groups (tests/conftest.py):
            # the session platform and each module's fixture are built once, on one worker.
            workers = max(1, min(os.cpu_count() or 1, 4))
            args = ["-n", str(workers), "--dist", "loadgroup", "--durations=12", *args]
        os.execve(BIN / "python", [str(BIN / "python"), "-m", "pytest", *args], env)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
