"""Static check: the Python assets reach the warehouse only through the engine adapter.

`Warehouse.workspace()` / `Workspace.publish()` (dagster_project/resources.py) is what makes a
Python asset read and write the selected engine (CDP_ENGINE=duckdb: the DuckDB file; spark:
Spark's tables). A module that opens the DuckDB warehouse file itself (`warehouse.connect(...)`,
`connect_warehouse(...)`, `duckdb.connect(<the warehouse path>)`, `connect_duckdb(<path>,
read_only=False)`) reads and writes the DuckDB file whatever the engine, so on Spark its tables
land in the wrong place. This scan of dagster_project's source fails on any such call outside
resources.py, except the few listed in ALLOWED with the reason they are engine-aware.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "dagster_project"
ADAPTER = PACKAGE / "resources.py"
# (module relative to dagster_project, function) -> why the direct open is right there
ALLOWED = {
    ("privacy/assets.py", "publish_analyst_file"):
        "the DuckDB branch of analyst_warehouse (Spark takes warehouse.workspace); it attaches the "
        "analysts' file, which a read-only connection cannot",
}


def _writable(call: ast.Call) -> bool:
    """A `read_only=` keyword that is not the literal True (read_only defaults to True)."""
    return any(k.arg == "read_only" and not (isinstance(k.value, ast.Constant) and k.value.value is True)
               for k in call.keywords)


def _warehouse_names(func: ast.AST) -> set[str]:
    """Parameters of a function that hold the Warehouse resource (annotated or named so)."""
    names = set()
    args = getattr(func, "args", None)
    if args is None:
        return names
    for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]:
        ann = ast.unparse(a.annotation) if a.annotation is not None else ""
        if ann.split(".")[-1].strip("'\"") == "Warehouse" or a.arg == "warehouse":
            names.add(a.arg)
    return names


def direct_warehouse_access(source: str, filename: str = "<module>") -> list[tuple[int, str, str]]:
    """(line, enclosing function, call) of every way `source` opens the warehouse itself."""
    tree = ast.parse(source, filename)
    found: list[tuple[int, str, str]] = []

    def visit(node: ast.AST, func: str, warehouse_names: set[str]) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            func, warehouse_names = node.name, warehouse_names | _warehouse_names(node)
        if isinstance(node, ast.Call):
            callee = node.func
            text = ast.unparse(node)
            name = callee.attr if isinstance(callee, ast.Attribute) else getattr(callee, "id", "")
            receiver = ast.unparse(callee.value) if isinstance(callee, ast.Attribute) else ""
            if name == "connect" and receiver in warehouse_names:
                found.append((node.lineno, func, text))
            elif name == "connect_warehouse":
                found.append((node.lineno, func, text))
            elif name == "connect" and receiver == "duckdb" and "warehouse" in text.lower():
                found.append((node.lineno, func, text))
            elif name == "connect_duckdb" and _writable(node):
                found.append((node.lineno, func, text))
        for child in ast.iter_child_nodes(node):
            visit(child, func, warehouse_names)

    visit(tree, "<module>", set())
    return found


def test_python_assets_use_the_engine_adapter():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == ADAPTER:
            continue
        rel = path.relative_to(PACKAGE).as_posix()
        for line, func, call in direct_warehouse_access(path.read_text(encoding="utf-8"), str(path)):
            if (rel, func) not in ALLOWED:
                offenders.append(f"dagster_project/{rel}:{line} in {func}(): {call}")
    assert not offenders, (
        "these open the DuckDB warehouse directly, so with CDP_ENGINE=spark they read/write the wrong "
        "place; use `with warehouse.workspace(reads=[...]) as ws:` and `ws.publish([...])` "
        "(dagster_project/resources.py):\n" + "\n".join(offenders))


def test_the_scan_finds_each_kind_of_direct_access():
    source = '''
import duckdb
from dagster_project.resources import Warehouse, connect_warehouse, connect_duckdb

def scores(context, warehouse: Warehouse):
    with warehouse.connect(read_only=False) as con:
        con.execute("insert into marts.churn_scores select 1")

def model(wh: "Warehouse"):
    with wh.connect(read_only=False) as con:
        pass

def other(settings, path):
    connect_warehouse()
    duckdb.connect(str(settings.warehouse_path))
    connect_duckdb(path, read_only=False)

def fine(warehouse: Warehouse, path):
    with warehouse.workspace(reads=["marts.churn_features"]) as ws:
        ws.publish(["marts.churn_scores"])
    duckdb.connect()
    connect_duckdb(path)
    connect_duckdb(path, read_only=True)
'''
    found = direct_warehouse_access(source)
    assert [(f, c.split("(")[0]) for _, f, c in found] == [
        ("scores", "warehouse.connect"), ("model", "wh.connect"), ("other", "connect_warehouse"),
        ("other", "duckdb.connect"), ("other", "connect_duckdb")]


def published_tables(source: str) -> list[str]:
    """The literal table names of every `<workspace>.publish([...])` call in `source`."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "publish"
                and node.args and isinstance(node.args[0], (ast.List, ast.Tuple))):
            out += [e.value for e in node.args[0].elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    return out


def test_every_table_a_python_asset_publishes_is_purged_on_erasure():
    """On Spark the erasure purge sees only the relations privacy_requests loads (PRIVACY_READS);
    on DuckDB it purges every base table. A table an asset publishes outside those schemas would
    keep an erased person's rows on Spark."""
    from fnmatch import fnmatch

    from dagster_project.privacy.assets import PRIVACY_READS

    from dagster_project.identity.on_spark import WRITES as IDENTITY_WRITES

    # what assets publish through the adapter, and what identity resolution writes from its Spark job
    published = {t for path in sorted(PACKAGE.rglob("*.py"))
                 for t in published_tables(path.read_text(encoding="utf-8"))} | set(IDENTITY_WRITES)
    assert {"identity.customer_xref", "identity.customer_id_history", "marts.churn_scores",
            "marts.churn_model_runs"} <= published
    missed = sorted(t for t in published if not any(fnmatch(t, pattern) for pattern in PRIVACY_READS))
    assert not missed, f"published to Spark but not read (so not purged) by privacy_requests: {missed}"
