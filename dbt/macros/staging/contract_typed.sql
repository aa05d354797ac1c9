{#-
  Typing the raw layer by the contract (the first CTE of every staging model).

  contract_typed('policy_admin__policies') selects from source('raw', <table>) every contract
  column cast to its contract type (explicitly: dates/times parsed by the contract's format,
  times to Asia/Shanghai local, numbers safe-cast, enums checked against the contract's
  values), plus the lineage columns and `_invalid_columns`: a comma-separated list of the
  OPTIONAL columns whose delivered value did not parse or was outside the contract (the value
  is set to null; required columns were enforced by the ingest). Drift columns are left out.
-#}

{% macro contract_typed_expr(col, is_parquet) -%}
    {%- set c = adapter.quote(col.name) -%}
    {%- set txt = "nullif(" ~ trim_whitespace("cast(" ~ c ~ " as " ~ dbt.type_string() ~ ")") ~ ", '')" -%}
    {%- set t = col.type -%}
    {%- if t == 'enum' -%}
        case when {{ txt }} in ({% for v in col['values'] %}'{{ v }}'{{ ', ' if not loop.last }}{% endfor %}) then {{ txt }} end
    {%- elif t in ('string', 'json') -%}
        {{ txt }}
    {%- elif t in ('date', 'month') -%}
        {%- if is_parquet -%}cast({{ c }} as date){%- else -%}{{ parse_date(txt, col.format) }}{%- endif -%}
    {%- elif t == 'timestamp' -%}
        {%- if is_parquet -%}{{ to_local_timestamp(c) }}
        {%- elif col.format == 'iso8601' -%}{{ parse_iso_timestamp(txt) }}
        {%- else -%}{{ parse_timestamp(txt, col.format) }}{%- endif -%}
    {%- elif t == 'epoch_ms' -%}
        {{ epoch_ms_to_timestamp(try_cast(txt, 'bigint')) }}
    {%- elif t == 'integer' -%}
        {%- set v = try_cast(txt, 'bigint') -%}
        {%- if col.min is defined or col.max is defined -%}
            case when {{ v }} between {{ col.get('min', -9223372036854775807) | int }} and {{ col.get('max', 9223372036854775807) | int }} then {{ v }} end
        {%- else -%}{{ v }}{%- endif -%}
    {%- elif t == 'decimal' -%}
        {{ try_cast("replace(" ~ txt ~ ", ',', '')" if col.thousands_separator else txt, 'decimal(38, 6)') }}
    {%- elif t == 'boolean' -%}
        {%- if is_parquet -%}cast({{ c }} as boolean){%- else -%}{{ try_cast("lower(" ~ txt ~ ")", 'boolean') }}{%- endif -%}
    {%- else -%}
        {{ exceptions.raise_compiler_error("contract type " ~ t ~ " has no typing rule") }}
    {%- endif -%}
{%- endmacro %}

{% macro contract_typed(table_name) -%}
    {%- set relation = source('raw', table_name) -%}
    {%- if not execute -%}
        select * from {{ relation }}
    {%- else -%}
        {%- set meta = raw_table_meta(table_name) -%}
        {%- set is_parquet = meta.format == 'parquet' -%}
        {%- set flags = [] -%}
        select
        {%- for col in meta.contract_columns %}
            {{ contract_typed_expr(col, is_parquet) }} as {{ adapter.quote(col.name) }},
            {%- if not col.required and col.type not in ('string', 'json') -%}
                {%- do flags.append("case when nullif(" ~ trim_whitespace("cast(" ~ adapter.quote(col.name) ~ " as " ~ dbt.type_string() ~ ")") ~ ", '') is not null and ("
                    ~ contract_typed_expr(col, is_parquet) ~ ") is null then '" ~ col.name ~ "' end") -%}
            {%- endif -%}
        {%- endfor %}
            {% if flags -%}
            nullif(concat_ws(',', {{ flags | join(',\n                ') }}), '')
            {%- else -%}
            cast(null as {{ dbt.type_string() }})
            {%- endif %} as _invalid_columns,
            cast(_source_file as {{ dbt.type_string() }}) as _source_file,
            cast(_business_date as date) as _business_date,
            cast(_row_number as bigint) as _row_number,
            cast(_loaded_at as {{ type_timestamp_tz() }}) as _loaded_at
        from {{ relation }}
    {%- endif -%}
{%- endmacro %}

{#-
  The current version of each key of `relation` (a typed CTE of `table_name`): the row with
  the latest version (contract `version_column`; a list -> the greatest non-null of them),
  ties -> later _business_date -> later _row_number. Where the entity has an `op` column, a
  key whose current version is a delete (`D`) is dropped. Adds `_version_rank` (always 1).
-#}
{% macro current_version(relation, table_name) -%}
    {%- if not execute -%}
        select *, 1 as _version_rank from {{ relation }}
    {%- else -%}
        {%- set meta = raw_table_meta(table_name) -%}
        {%- set versions = meta.version_columns or [] -%}
        {%- set order_by = [] -%}
        {%- if versions | length == 1 -%}
            {%- do order_by.append(adapter.quote(versions[0]) ~ ' desc nulls last') -%}
        {%- elif versions | length > 1 -%}
            {%- do order_by.append('greatest(' ~ versions | join(', ') ~ ') desc nulls last') -%}
        {%- endif -%}
        {%- do order_by.append('_business_date desc nulls last') -%}
        {%- do order_by.append('_row_number desc nulls last') -%}
        select *
        from (
            select
                versions.*,
                row_number() over (
                    partition by {{ meta.key | join(', ') }}
                    order by {{ order_by | join(', ') }}
                ) as _version_rank
            from {{ relation }} as versions
        ) as ranked
        where _version_rank = 1
        {%- if meta.op_column %}
          and coalesce({{ meta.op_column }}, '') <> 'D'
        {%- endif %}
    {%- endif -%}
{%- endmacro %}

{#- The current version of every key of a raw table, typed: contract_typed + current_version. -#}
{% macro current_typed_rows(table_name) -%}
    with typed as (
        {{ contract_typed(table_name) | indent(8) }}
    )
    {{ current_version('typed', table_name) }}
{%- endmacro %}
