{#- The lake root (var `lake_dir`, from env CDP_LAKE_DIR), without a trailing slash. -#}
{% macro lake_dir() -%}
    {{- return((var('lake_dir') | string | trim).rstrip('/')) -}}
{%- endmacro %}

{#- meta of a table of source `raw` (generated from the contract; see raw_contract_meta.sql).
    Read from the generated macro rather than the graph so that it also works in unit tests. -#}
{% macro raw_table_meta(table_name) -%}
    {%- set meta = raw_contract_meta().get(table_name) -%}
    {%- if meta is none -%}
        {{ exceptions.raise_compiler_error("no table " ~ table_name ~ " in source raw") }}
    {%- endif -%}
    {{- return(meta) -}}
{%- endmacro %}

{#-
  on-run-start: (re)create the views of schema `raw` over the Parquet lake, one per source
  table of source `raw` (the 16 contract entities, `quarantine`, `ingest_log`).
  Files: <lake>/<lake_path>/business_date=*/part-*.parquet (the ingest's staging directories
  `.tmp-*` beside the partitions are never matched).
  A view is `<typed empty relation> union all by name read_parquet(<glob>)`: the contract and
  lineage columns always exist with their raw types, whatever has or has not been delivered,
  and schema-drift columns of the files appear after them. Without any file the view is the
  typed empty relation, so that dbt compiles, runs and unit-tests on an empty lake.
-#}
{% macro create_raw_views() -%}
    {{ return(adapter.dispatch('create_raw_views', 'insurance_cdp')()) }}
{%- endmacro %}

{% macro default__create_raw_views() -%}
    {{ exceptions.raise_compiler_error("create_raw_views() has no implementation for adapter " ~ adapter.type()) }}
{%- endmacro %}

{% macro _typed_empty_select(meta) -%}
    select
    {%- for col in meta.contract_columns + meta.lineage_columns %}
        cast(null as {{ col.raw_type }}) as {{ adapter.quote(col.name) }}{{ ',' if not loop.last }}
    {%- endfor %}
    where 1 = 0
{%- endmacro %}

{% macro duckdb__create_raw_views() -%}
    {%- if execute -%}
        {%- set lake = lake_dir() -%}
        {%- do run_query('create schema if not exists raw') -%}
        {%- set created = [] -%}
        {%- for node in graph.sources.values() if node.source_name == 'raw' -%}
            {%- set meta = node.config.meta or node.meta -%}
            {%- set glob = (lake ~ '/' ~ meta.lake_path ~ '/business_date=*/part-*.parquet') | replace("'", "''") -%}
            {%- set n_files = run_query("select count(*) from glob('" ~ glob ~ "')").columns[0].values()[0] -%}
            {%- set body = _typed_empty_select(meta) -%}
            {%- if n_files > 0 -%}
                {%- set body = body ~ "\nunion all by name\nselect * from read_parquet('" ~ glob ~ "', union_by_name = true, hive_partitioning = false)" -%}
            {%- endif -%}
            {%- do run_query('create or replace view raw.' ~ adapter.quote(node.name) ~ ' as\n' ~ body) -%}
            {%- do created.append(node.name ~ '=' ~ n_files) -%}
        {%- endfor -%}
        {{ log('create_raw_views: lake ' ~ lake ~ '; files per view: ' ~ created | join(', '), info=false) }}
    {%- endif -%}
    select 1 as raw_views_ready
{%- endmacro %}

{#-
  Spark: `raw.<table>` is an EXTERNAL Parquet table over the lake folder (LOCATION; dropping it
  never touches the files) with the contract and lineage columns typed by their raw types, so a
  column a file lacks reads as null and a folder with no files yet reads as an empty table. Files
  are found recursively (`part-*.parquet` only; Spark skips the ingest's hidden `.tmp-*`
  folders). Schema-drift columns are not exposed (staging never carries them; the ingest log
  reports them). The lake is read where Spark sees it: var `spark_lake_dir` (env
  CDP_SPARK_LAKE_DIR, e.g. s3a://bucket/lake) or else `lake_dir`, and it must be absolute.
-#}
{% macro spark__create_raw_views() -%}
    {%- if execute -%}
        {%- set lake = (var('spark_lake_dir', '') | string | trim).rstrip('/') or lake_dir() -%}
        {%- if not (lake.startswith('/') or '://' in lake) -%}
            {{ exceptions.raise_compiler_error("the lake for Spark must be an absolute path or a URI (set CDP_LAKE_DIR or CDP_SPARK_LAKE_DIR), not " ~ lake) }}
        {%- endif -%}
        {%- set tz = run_query('select current_timezone()').columns[0].values()[0] -%}
        {%- if tz != var('cdp_timezone') -%}
            {{ exceptions.raise_compiler_error("the Spark session time zone is " ~ tz ~ ", the contract's is " ~ var('cdp_timezone') ~ ": set spark.sql.session.timeZone in the profile") }}
        {%- endif -%}
        {%- do run_query('create schema if not exists raw') -%}
        {%- for node in graph.sources.values() if node.source_name == 'raw' -%}
            {%- set meta = node.config.meta or node.meta -%}
            {%- set folder = lake ~ '/' ~ meta.lake_path.split('/*')[0] -%}
            {%- set columns = [] -%}
            {%- for col in meta.contract_columns + meta.lineage_columns -%}
                {%- do columns.append(adapter.quote(col.name) ~ ' ' ~ ddl_type(col.raw_type)) -%}
            {%- endfor -%}
            {%- do run_query('drop table if exists raw.' ~ adapter.quote(node.name)) -%}
            {%- do run_query('create table raw.' ~ adapter.quote(node.name) ~ ' (' ~ columns | join(', ') ~ ')'
                             ~ " using parquet options (recursiveFileLookup 'true', pathGlobFilter 'part-*.parquet')"
                             ~ " location '" ~ folder | replace("'", "''") ~ "'") -%}
        {%- endfor -%}
        {{ log('create_raw_views: external Parquet tables over ' ~ lake, info=false) }}
    {%- endif -%}
    select 1 as raw_views_ready
{%- endmacro %}

{# The storage clause of a table a macro creates (Spark: plain Parquet, readable by any engine). #}
{% macro table_format_clause() -%}
    {{ return(adapter.dispatch('table_format_clause', 'insurance_cdp')()) }}
{%- endmacro %}
{% macro default__table_format_clause() -%}
{%- endmacro %}
{% macro spark__table_format_clause() -%}
    {{- ' using parquet' -}}
{%- endmacro %}
