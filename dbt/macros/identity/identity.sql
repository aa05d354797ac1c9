{#-
  Helpers of the identity layer (dbt/models/identity). Engine-specific SQL is dispatched:
  `duckdb__` runs today, `default__` is Spark SQL (the planned second target).
-#}


{#
  The earliest business date on which any version of each key of a raw table was delivered
  (staging keeps only the current version). Stable customer ids are anchored on it: it does not
  change when a record is updated, and a rebuild from the same lake gives the same dates.
  Keys are trimmed exactly as contract_typed trims string columns (trim_whitespace).
#}
{% macro first_seen_dates(table_name, key_columns) -%}
    select
        {%- for k in key_columns %}
        nullif({{ trim_whitespace("cast(" ~ adapter.quote(k) ~ " as " ~ dbt.type_string() ~ ")") }}, '') as {{ k }},
        {%- endfor %}
        min(cast(_business_date as date)) as first_seen_date
    from {{ source('raw', table_name) }}
    group by
        {%- for k in key_columns %}
        nullif({{ trim_whitespace("cast(" ~ adapter.quote(k) ~ " as " ~ dbt.type_string() ~ ")") }}, ''){{ ',' if not loop.last }}
        {%- endfor %}
{%- endmacro %}

{#
  A person's name typed at the start of a free-text remark (`王芳 13800138000 老客户`): the
  first token when it is 2-5 Chinese characters (a middle dot allowed), else null. The remark
  is already normalise_text'ed (single spaces).
#}
{% macro remark_person_name(remark) -%}
    nullif({{ regexp_extract(remark, '^([\\x{3400}-\\x{9fff}·]{2,5})( |$)', 1) }}, '')
{%- endmacro %}

{# Gender held in an 18-char resident ID: the 17th digit is odd for men. Null unless 17 digits. #}
{% macro id_gender(id18) -%}
    case
        when {{ regexp_like("substr(" ~ id18 ~ ", 1, 17)", '^[0-9]{17}$') }}
            then case when mod(cast(substr({{ id18 }}, 17, 1) as integer), 2) = 1 then 'M' else 'F' end
    end
{%- endmacro %}

{#-
  on-run-start: create the tables the identity_resolution asset writes (source `identity`:
  customer_xref, customer_id_history) empty, when they do not exist yet, so that dbt parses,
  builds and tests the models that read them before the first matching run (an empty lake, a
  dbt-only build). Columns and types come from the source's YAML (`data_type`), the one
  description the asset also builds its tables from (dagster_project/identity/assets.py).
-#}
{% macro create_identity_tables() -%}
    {{ return(create_source_tables('identity')) }}
{%- endmacro %}

{#- Create the tables of a source written by a Python asset, empty, from their YAML data_type. -#}
{% macro create_source_tables(source_name) -%}
    {%- if execute -%}
        {%- for node in graph.sources.values() if node.source_name == source_name -%}
            {%- do run_query('create schema if not exists ' ~ node.schema) -%}
            {%- set columns = [] -%}
            {%- for col in node.columns.values() -%}
                {%- do columns.append(adapter.quote(col.name) ~ ' ' ~ ddl_type(col.data_type)) -%}
            {%- endfor -%}
            {%- do run_query('create table if not exists ' ~ node.schema ~ '.' ~ node.name ~ ' (' ~ columns | join(', ') ~ ')' ~ table_format_clause()) -%}
        {%- endfor -%}
    {%- endif -%}
    select 1 as {{ source_name }}_tables_ready
{%- endmacro %}
