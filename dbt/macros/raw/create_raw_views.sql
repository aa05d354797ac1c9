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
