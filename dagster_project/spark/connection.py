"""A DuckDB-shaped connection that runs on Spark: the identity engine's SQL, unchanged, on a cluster.

The identity engine (identity/engine.py and its steps) is written once, in DuckDB's SQL, against
the few methods of a DuckDB connection it uses: `execute(sql).fetchall() / .fetchnumpy()`,
`executemany`, `register(name, {column: numpy array})` and `unregister`. `SparkConnection` offers
the same methods over a SparkSession, so `resolve(SparkConnection(spark), ...)` runs every join,
window and aggregate of the engine on Spark's executors; only what the engine already pulls into
Python (the candidate edges the constrained union-find walks, the per-pass attachment lists)
comes to the driver.

Each statement is parsed as DuckDB SQL and written as Spark SQL by sqlglot, the standard SQL
transpiler (the same one splink uses to run one model on several engines). What Spark's SQL has
no statement for is carried out on DataFrames:

- `create [or replace] temp table t as <query>`: the query's result written as Parquet under
  the scratch folder and read back as a temporary view (later statements neither recompute it
  nor grow its plan); `create temp table t (col type, ...)` an empty one of that schema;
- `insert into t <query | values>`: the rows appended (by position, cast to t's columns);
- `update t set c = e where p`: t replaced by `select ..., case when p then e else c end as c, ...`;
- `drop table t`: the view dropped and its blocks released;
- DuckDB session settings (`set threads = 2`, memory limits) and transaction statements: no-ops
  (Spark's own settings come from the dbt profile, spark/session.py).

Statement parameters (`?`) are bound as SQL literals before transpiling.
"""

from __future__ import annotations

import datetime as dt
import decimal
import time
from typing import Any, Iterable, Sequence

import numpy as np
import sqlglot
from sqlglot import exp

READ, WRITE = "duckdb", "spark"


class SparkSQLError(RuntimeError):
    """A statement Spark refused, with the DuckDB text and the Spark text it was written as."""


def _literal(value: Any) -> exp.Expression:
    if value is None:
        return exp.null()
    if isinstance(value, bool):
        return exp.true() if value else exp.false()
    if isinstance(value, (int, float, decimal.Decimal, np.integer, np.floating)):
        return exp.Literal.number(value)
    if isinstance(value, dt.datetime):
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), "timestamp")
    if isinstance(value, dt.date):
        return exp.cast(exp.Literal.string(value.isoformat()), "date")
    return exp.Literal.string(str(value))


def _bind(tree: exp.Expression, params: Sequence[Any] | None) -> exp.Expression:
    if not params:
        return tree
    values = iter(params)

    def replace(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Placeholder):
            return _literal(next(values))
        return node

    return tree.transform(replace)


def _duckdb_functions(node: exp.Expression) -> exp.Expression:
    """DuckDB functions sqlglot leaves as they are, in Spark's terms."""
    if isinstance(node, exp.RegexpFullMatch):  # the whole string matches
        pattern = node.expression
        if isinstance(pattern, exp.Literal):
            pattern = exp.Literal.string(f"^(?:{pattern.this})$")
        else:
            pattern = exp.func("concat", exp.Literal.string("^(?:"), pattern, exp.Literal.string(")$"))
        return exp.RegexpLike(this=node.this, expression=pattern)
    if isinstance(node, exp.ArrayOverlaps):  # sqlglot writes `&&`, which Spark does not parse
        return exp.Anonymous(this="arrays_overlap", expressions=[node.this, node.expression])
    if isinstance(node, exp.Anonymous):
        name, args = node.name.lower(), node.expressions
        if name == "list_extract":  # 1-based on both engines
            return exp.Anonymous(this="element_at", expressions=args)
        if name == "hamming":  # positions that differ (DuckDB requires equal lengths)
            template = sqlglot.parse_one(
                "size(filter(sequence(1, length(_a)), _i -> substring(_a, _i, 1) <> substring(_b, _i, 1)))",
                read=WRITE)
            a, b = args
            return template.transform(lambda n: (a.copy() if n.name == "_a" else b.copy())
                                      if isinstance(n, exp.Column) and n.name in ("_a", "_b") else n)
    return node


def to_spark_sql(tree: exp.Expression) -> str:
    return tree.transform(_duckdb_functions).sql(dialect=WRITE)


class SparkResult:
    """The result of one statement: DuckDB's fetch methods over a DataFrame (or nothing)."""

    def __init__(self, df=None):
        self._df = df

    def fetchall(self) -> list[tuple]:
        if self._df is None:
            return []
        return [tuple(row) for row in self._df.collect()]

    def fetchone(self):
        rows = self.fetchall()
        return rows[0] if rows else None

    def fetchnumpy(self) -> dict[str, np.ndarray]:
        if self._df is None:
            return {}
        frame = self._df.toPandas()
        out = {}
        for c in frame.columns:
            col = frame[c]
            if col.dtype.kind in "OSUT" or str(col.dtype).startswith("str"):  # text: None for null, as DuckDB
                col = col.astype(object).where(col.notna(), None)
            out[c] = col.to_numpy()
        return out

    def df(self):
        return None if self._df is None else self._df.toPandas()


class SparkConnection:
    """The DuckDB connection methods the identity engine uses, carried out on `spark`."""

    def __init__(self, spark, scratch: str, log: list[str] | None = None):
        self.spark = spark
        # where temp tables are written: a local folder in local mode, on a cluster a URI every
        # executor reads (hdfs://, s3a://); deleted by close()
        self.scratch = scratch.rstrip("/")
        self._writes = 0
        self.tables: dict[str, Any] = {}  # temp table name -> its DataFrame
        self.paths: dict[str, str] = {}  # temp table name -> its Parquet folder
        self.log = log  # when a list: every Spark statement run and every table written (seconds)
        spark.conf.set("spark.sql.execution.arrow.pyspark.enabled", "true")  # fetchnumpy through Arrow

    # ---- DuckDB connection methods -------------------------------------------------------------
    def execute(self, sql: str, params: Sequence[Any] | None = None) -> SparkResult:
        statements = [s for s in sqlglot.parse(sql, read=READ) if s is not None]
        result = SparkResult()
        for tree in statements:
            result = self._run(_bind(tree, params), sql)
        return result

    def sql(self, sql: str) -> SparkResult:
        return self.execute(sql)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        tree = sqlglot.parse_one(sql, read=READ)
        rows = list(rows)
        if isinstance(tree, exp.Insert) and isinstance(tree.expression, exp.Values):
            values = exp.Values(expressions=[exp.Tuple(expressions=[_literal(v) for v in row]) for row in rows])
            if rows:
                self._insert(tree.this, values, sql)
            return
        for row in rows:
            self._run(_bind(tree, row), sql)

    def register(self, name: str, columns: dict[str, Any]) -> None:
        import pandas as pd

        frame = columns if isinstance(columns, pd.DataFrame) else pd.DataFrame(
            {k: np.asarray(v) for k, v in columns.items()})
        self._set(name, self.spark.createDataFrame(frame), materialise=False)

    def unregister(self, name: str) -> None:
        self._drop(name)

    def close(self) -> None:
        """Drop every temp table and delete the scratch folder."""
        for name in list(self.tables):
            self._drop(name)
        self._delete(self.scratch)

    # ---- statements --------------------------------------------------------------------------
    def _run(self, tree: exp.Expression, original: str) -> SparkResult:
        if isinstance(tree, (exp.Set, exp.Transaction, exp.Commit, exp.Rollback)) or (
                isinstance(tree, exp.Command) and tree.name.upper() in ("SET", "PRAGMA", "BEGIN", "COMMIT")):
            return SparkResult()
        # the engine's own tables (no schema) are the connection's temp tables; a statement on a
        # catalog table (`identity.customer_xref`) is Spark SQL like any other
        if isinstance(tree, exp.Create) and tree.kind == "TABLE" and self._own(tree.this):
            return self._create(tree, original)
        if isinstance(tree, exp.Insert) and self._own(tree.this):
            self._insert(tree.this, tree.expression, original)
            return SparkResult()
        if isinstance(tree, exp.Update) and self._own(tree.this):
            self._update(tree, original)
            return SparkResult()
        if isinstance(tree, exp.Drop) and tree.kind == "TABLE" and all(
                self._own(t) for t in tree.args.get("tables") or [tree.this]):
            for table in tree.args.get("tables") or [tree.this]:
                self._drop(table.name)
            return SparkResult()
        return SparkResult(self._df(tree, original))

    @staticmethod
    def _own(target: exp.Expression) -> bool:
        table = target.this if isinstance(target, exp.Schema) else target
        return isinstance(table, exp.Table) and not table.db

    def _df(self, tree: exp.Expression, original: str):
        text = to_spark_sql(tree)
        if self.log is not None:
            self.log.append(text)
        try:
            return self.spark.sql(text)
        except Exception as e:  # AnalysisException, ParseException: name both texts
            reason = " ".join(line.strip() for line in str(e).splitlines() if line.strip())[:800]
            raise SparkSQLError(f"Spark refused a statement: {reason}\n"
                                f"--- as written for Spark:\n{text}\n--- as written (DuckDB):\n{original.strip()}") from e

    def _create(self, tree: exp.Create, original: str) -> SparkResult:
        target = tree.this
        if isinstance(target, exp.Schema):  # create temp table t (col type, ...)
            name = target.this.name
            schema = ", ".join(f"`{c.name}` {c.args['kind'].sql(dialect=WRITE)}" for c in target.expressions)
            self._set(name, self.spark.createDataFrame([], schema), materialise=False)
            return SparkResult()
        name = target.name
        if tree.args.get("exists") and name in self.tables:  # create table if not exists
            return SparkResult()
        self._set(name, self._df(tree.expression, original))
        return SparkResult()

    def _insert(self, target: exp.Expression, source: exp.Expression, original: str) -> None:
        table = target.this if isinstance(target, exp.Schema) else target
        name = table.name
        old = self.tables[name]
        if isinstance(source, exp.Values):
            new = self._df(exp.select("*").from_(source.as_("_values")), original)
        else:
            new = self._df(source, original)
        if isinstance(target, exp.Schema):  # insert into t (a, b) ...: the other columns null
            named = [c.name for c in target.expressions]
            new = new.toDF(*named)
            new = new.select(*[(new[c] if c in named else _null(c)) for c in old.columns])
        new = new.toDF(*old.columns)
        new = new.select(*[new[f.name].cast(f.dataType).alias(f.name) for f in old.schema.fields])
        self._set(name, old.unionAll(new))

    def _update(self, tree: exp.Update, original: str) -> None:
        name = tree.this.name
        old = self.tables[name]
        where = tree.args.get("where")
        changes = {}
        for eq in tree.expressions:
            value = eq.expression
            if where is not None:
                value = exp.Case(ifs=[exp.If(this=where.this.copy(), true=value)], default=exp.column(eq.this.name))
            changes[eq.this.name] = value
        select = exp.select(*[
            exp.alias_(exp.cast(changes[c], f.dataType.simpleString()) if c in changes else exp.column(c), c)
            for f in old.schema.fields for c in [f.name]]).from_(name)
        self._set(name, self._df(select, original))

    def _set(self, name: str, df, materialise: bool = True) -> None:
        path = None
        if materialise:
            # written once and read back: later statements neither recompute it nor grow its plan,
            # and Spark plans joins with the files' real sizes (an in-memory checkpoint has none,
            # and Spark's planner then spends minutes multiplying unknown sizes)
            start = time.perf_counter()
            self._writes += 1
            path = f"{self.scratch}/{name}-{self._writes}"
            df.write.mode("overwrite").parquet(path)
            df = self.spark.read.parquet(path)
            if self.log is not None:
                self.log.append(f"-- {name}: {time.perf_counter() - start:.2f} s")
        self._drop(name)
        df.createOrReplaceTempView(name)
        self.tables[name] = df
        if path is not None:
            self.paths[name] = path

    def _drop(self, name: str) -> None:
        self.tables.pop(name, None)
        self.spark.catalog.dropTempView(name)
        if name in self.paths:
            self._delete(self.paths.pop(name))

    def _delete(self, path: str) -> None:
        jvm = self.spark.sparkContext._jvm
        hpath = jvm.org.apache.hadoop.fs.Path(path)
        hpath.getFileSystem(self.spark.sparkContext._jsc.hadoopConfiguration()).delete(hpath, True)


def _null(column: str):
    from pyspark.sql import functions as F

    return F.lit(None).alias(column)
