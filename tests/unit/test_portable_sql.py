"""CI check: engine-specific SQL lives only in the dispatch folder (dbt/macros/engine).

Every other model, macro, snapshot and data test must be SQL that DuckDB and Spark both run the
same way: dbt's cross-database macros plus the dispatched macros of macros/engine. The scan reads
the SQL text outside Jinja tags and the string literals inside them (SQL fragments that macros
receive), so a call of a dispatched macro such as `{{ regexp_like(x, '...') }}` is fine while a
raw `regexp_matches(` or `rlike` is not.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DBT_DIR = Path(__file__).resolve().parents[2] / "dbt"
DISPATCH_FOLDER = DBT_DIR / "macros" / "engine"
# generated data, not SQL: the contract's raw types (mapped per engine by ddl_type())
NOT_SQL = {DBT_DIR / "macros" / "raw" / "raw_contract_meta.sql"}

# (pattern, what to use instead); patterns are matched case-insensitively on SQL text
DUCKDB_ONLY = [
    (r"::", "cast(x as type)"),
    (r"\bregexp_(matches|full_match)\s*\(", "regexp_like()"),
    (r"\b(try_)?strptime\s*\(", "parse_date() / parse_timestamp()"),
    (r"\bstrftime\s*\(", "a dispatched macro in macros/engine"),
    (r"\bepoch_ms\s*\(", "epoch_ms_to_timestamp()"),
    (r"\bunnest\s*\(|\brange\s*\(|\bgenerate_series\s*\(", "explode_chars() or a dispatched macro"),
    (r"\bstring_agg\s*\(|\bgroup_concat\s*\(|\blist\s*\(|\blist_\w+\s*\(|\barray_agg\s*\(",
     "ordered_listagg() / sorted_distinct_listagg()"),
    (r"\bread_(parquet|csv|json)\w*\s*\(|\bglob\s*\(", "source('raw', ...) (create_raw_views)"),
    (r"\bunion\s+(all\s+)?by\s+name\b", "an explicit column list"),
    (r"\*\s*exclude\s*\(|\bcolumns\s*\(", "an explicit column list"),
    (r"\btimestamptz\b|\btimestamp\s+with\s+time\s+zone\b", "type_timestamp_tz()"),
    (r"\bvarchar\b", "dbt.type_string() (Spark's VARCHAR needs a length)"),
    (r"\b(hugeint|ubigint|uinteger|usmallint|utinyint)\b", "bigint / decimal"),
    (r"\bsha256\s*\(", "sha256_hex()"),
    (r"\barg_(max|min)\s*\(", "max_by() / min_by()"),
    (r"\bdate_?diff\s*\(|\bdate_?add\s*\(|\bdate_sub\s*\(", "dbt.datediff() / dbt.dateadd()"),
    (r",\s*'g'\s*\)", "regexp_replace_all()"),
    (r"\bstruct_pack\s*\(|\bstruct_extract\s*\(", "plain columns"),
    (r"\btimezone\s*\(", "to_local_timestamp() / parse_iso_timestamp()"),
    (r"\binsert\s+or\s+replace\b|\bon\s+conflict\b", "replace_partitions() incremental models"),
    (r"//", "cast(a / b as bigint) or floor()"),
]
SPARK_ONLY = [
    (r"\brlike\b|\bregexp_like\s*\(", "regexp_like() (the dispatched macro)"),
    (r"\bregexp_replace\s*\(", "regexp_replace_all()"),
    (r"\bregexp_extract\s*\(", "regexp_extract() (the dispatched macro)"),
    (r"\blateral\s+view\b|\b(pos)?explode(_outer)?\s*\(", "explode_chars() or a dispatched macro"),
    (r"\bsha2\s*\(", "sha256_hex()"),
    (r"\bto_(date|timestamp\w*|utc_timestamp)\s*\(|\bdate_format\s*\(|\bunix_timestamp\s*\(|\bfrom_unixtime\s*\("
     r"|\bfrom_utc_timestamp\s*\(|\btimestamp_millis\s*\(", "parse_date() / parse_timestamp() / to_local_timestamp()"),
    (r"\bcollect_(list|set)\s*\(|\barray_join\s*\(|\barray_sort\s*\(|\bnamed_struct\s*\(|\btransform\s*\(",
     "ordered_listagg() / sorted_distinct_listagg()"),
    (r"\bnvl2?\s*\(", "coalesce() / case"),
    (r"`", "double quotes or adapter.quote() (a backtick inside a string literal is data)"),
    (r"\bdiv\b", "cast(a / b as bigint) or floor()"),
    (r"\b(distribute|cluster|sort)\s+by\b", "partition_by in the model config"),
    (r"\btimestamp_(ltz|ntz)\b", "type_timestamp_tz() / type_timestamp_local()"),
]
# choosing SQL by engine belongs in macros/engine too
DISPATCH_ONLY = [
    (r"\badapter\.dispatch\s*\(", "a dispatched macro in macros/engine"),
    (r"\btarget\.type\b", "a dispatched macro in macros/engine"),
]

_JINJA = re.compile(r"\{#.*?#\}|\{\{.*?\}\}|\{%.*?%\}", re.S)
_STRING = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"", re.S)
_SQL_COMMENT = re.compile(r"--[^\n]*")
_SQL_LITERAL = re.compile(r"'(?:[^']|'')*'")
# rules judged on SQL without its string literals (the construct is syntax, not data)
OUTSIDE_LITERALS = {r"`"}


def sql_fragments(text: str) -> list[str]:
    """The SQL of a dbt file: the text outside Jinja tags (without SQL comments) and the string
    literals inside `{{ }}` / `{% %}` tags (SQL handed to macros). Jinja comments are dropped."""
    out: list[str] = []
    pos = 0
    for m in _JINJA.finditer(text):
        out.append(_SQL_COMMENT.sub("", text[pos:m.start()]))
        tag = m.group(0)
        if not tag.startswith("{#"):
            out.extend(s[1:-1] for s in _STRING.findall(tag))
        pos = m.end()
    out.append(_SQL_COMMENT.sub("", text[pos:]))
    return out


def engine_specific(text: str) -> list[tuple[str, str, str]]:
    """(construct found, engine it belongs to, what to use instead) for every violation."""
    found = []
    fragments = sql_fragments(text)
    for engine, rules in (("DuckDB-only", DUCKDB_ONLY), ("Spark-only", SPARK_ONLY)):
        for pattern, instead in rules:
            for frag in fragments:
                if pattern in OUTSIDE_LITERALS:
                    frag = _SQL_LITERAL.sub("''", frag)
                m = re.search(pattern, frag, re.I)
                if m:
                    found.append((m.group(0).strip(), engine, instead))
                    break
    for pattern, instead in DISPATCH_ONLY:
        m = re.search(pattern, text)
        if m:
            found.append((m.group(0), "engine choice", instead))
    return found


def portable_files() -> list[Path]:
    files = []
    for folder in ("models", "macros", "snapshots", "tests"):
        files += sorted((DBT_DIR / folder).rglob("*.sql"))
    return [f for f in files if DISPATCH_FOLDER not in f.parents and f not in NOT_SQL]


def test_no_engine_specific_sql_outside_the_dispatch_folder():
    problems = []
    for path in portable_files():
        for construct, engine, instead in engine_specific(path.read_text(encoding="utf-8")):
            problems.append(f"{path.relative_to(DBT_DIR)}: {engine} `{construct}`: use {instead}")
    assert not problems, "engine-specific SQL outside dbt/macros/engine:\n" + "\n".join(problems)


def test_seed_column_types_are_portable():
    """Seed column types are DDL both engines run: `string`, not `varchar` (Spark needs a length)."""
    import yaml

    problems = []
    for path in sorted((DBT_DIR / "seeds").rglob("*.yml")):
        for seed in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("seeds", []):
            for column, data_type in ((seed.get("config") or {}).get("column_types") or {}).items():
                for construct, engine, instead in engine_specific(f"select cast(x as {data_type})"):
                    problems.append(f"{path.relative_to(DBT_DIR)}: seed {seed['name']} column {column}: "
                                    f"{engine} `{construct}`: use {instead}")
    assert not problems, "engine-specific seed column types:\n" + "\n".join(problems)


def test_the_scan_covers_the_project():
    names = {p.relative_to(DBT_DIR).as_posix() for p in portable_files()}
    assert "models/identity/int_person_records.sql" in names
    assert "macros/normalise/id_no.sql" in names
    assert not any(n.startswith("macros/engine/") for n in names)
    assert len(names) > 50


@pytest.mark.parametrize("sql, construct", [
    ("select cast(x as varchar) from t", "varchar"),
    ("select x::date from t", "::"),
    ("select regexp_replace(a, 'x', 'y', 'g') from t", "regexp_replace("),
    ("select a from t where a rlike '^1'", "rlike"),
    ("select string_agg(a, ',' order by a) from t", "string_agg("),
    ("select * from read_parquet('x.parquet')", "read_parquet("),
    ("select sha2(a, 256) from t", "sha2("),
    ("select to_date(a, 'yyyyMMdd') from t", "to_date("),
    ("select `a` from t", "`"),
    ("select translate(a, 'x', '`'), `b` from t", "`"),
    ("select name from t lateral view posexplode(split(name, '')) c as pos, ch", "lateral view"),
    ("{{ mobile_clean(\"nullif(regexp_extract(remark, '1[3-9]', 0), '')\") }}", "regexp_extract("),
    ("{% if target.type == 'spark' %}select 1{% endif %}", "target.type"),
    ("select cast(a as timestamp with time zone) from t", "timestamp with time zone"),
])
def test_the_scan_rejects_engine_specific_constructs(sql, construct):
    assert any(c.lower() == construct.lower() for c, _, _ in engine_specific(sql)), engine_specific(sql)


@pytest.mark.parametrize("sql", [
    "select {{ regexp_like('mobile', '^1[3-9][0-9]{9}$') }} as ok from t -- rlike is the macro's business",
    "{#- DuckDB's regexp_matches vs Spark's rlike: see macros/engine -#} select 1",
    "select cast(a as {{ dbt.type_string() }}), {{ dbt.dateadd('day', 1, 'd') }} from t",
    "select {{ regexp_extract('remark', '^([a-z]+)', 1) }} from t",
    "select translate(a, 'xy', '`' || ) from t",
])
def test_the_scan_accepts_portable_sql(sql):
    assert engine_specific(sql) == []
