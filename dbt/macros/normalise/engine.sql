{#-
  Engine-specific SQL, dispatched per adapter so that the normalisers stay portable.
  `duckdb__` is what runs today; `default__` is written for Spark SQL (the planned second
  target), which is also the closest to ANSI where an ANSI form exists.
-#}

{# Replace every match of `pattern` (RE2 / Java regex) in `expr`. #}
{% macro regexp_replace_all(expr, pattern, replacement) -%}
    {{ return(adapter.dispatch('regexp_replace_all', 'insurance_cdp')(expr, pattern, replacement)) }}
{%- endmacro %}
{% macro default__regexp_replace_all(expr, pattern, replacement) -%}
    regexp_replace({{ expr }}, '{{ pattern }}', '{{ replacement }}')
{%- endmacro %}
{% macro duckdb__regexp_replace_all(expr, pattern, replacement) -%}
    regexp_replace({{ expr }}, '{{ pattern }}', '{{ replacement }}', 'g')
{%- endmacro %}

{# True when `expr` contains a match of `pattern` (anchor the pattern for a full match). #}
{% macro regexp_like(expr, pattern) -%}
    {{ return(adapter.dispatch('regexp_like', 'insurance_cdp')(expr, pattern)) }}
{%- endmacro %}
{% macro default__regexp_like(expr, pattern) -%}
    ({{ expr }} rlike '{{ pattern }}')
{%- endmacro %}
{% macro duckdb__regexp_like(expr, pattern) -%}
    regexp_matches({{ expr }}, '{{ pattern }}')
{%- endmacro %}

{# Trim the white space the ingest trims before judging a value: space, tab, CR, LF, no-break
   space (U+00A0) and ideographic space (U+3000), so a value that passed the ingest's checks
   never turns null in staging. #}
{% macro trim_whitespace(expr) -%}
    {{ return(adapter.dispatch('trim_whitespace', 'insurance_cdp')(expr)) }}
{%- endmacro %}
{% macro default__trim_whitespace(expr) -%}
    trim(BOTH ' \t\r\n 　' FROM {{ expr }})
{%- endmacro %}
{% macro duckdb__trim_whitespace(expr) -%}
    trim({{ expr }}, chr(32) || chr(9) || chr(13) || chr(10) || chr(160) || chr(12288))
{%- endmacro %}

{# strptime codes (the contract's formats) -> Java DateTimeFormatter pattern (Spark). #}
{% macro strptime_to_java(fmt) -%}
    {%- set codes = {'%Y': 'yyyy', '%m': 'MM', '%d': 'dd', '%H': 'HH', '%M': 'mm', '%S': 'ss'} -%}
    {%- set ns = namespace(out=fmt) -%}
    {%- for code, java in codes.items() -%}{%- set ns.out = ns.out | replace(code, java) -%}{%- endfor -%}
    {{- ns.out -}}
{%- endmacro %}

{# Text -> date by a strptime format; null when it does not parse. #}
{% macro parse_date(expr, fmt) -%}
    {{ return(adapter.dispatch('parse_date', 'insurance_cdp')(expr, fmt)) }}
{%- endmacro %}
{% macro default__parse_date(expr, fmt) -%}
    to_date({{ expr }}, '{{ strptime_to_java(fmt) }}')
{%- endmacro %}
{% macro duckdb__parse_date(expr, fmt) -%}
    cast(try_strptime({{ expr }}, '{{ fmt }}') as date)
{%- endmacro %}

{# Text -> local timestamp by a strptime format (the text is already Asia/Shanghai local time). #}
{% macro parse_timestamp(expr, fmt) -%}
    {{ return(adapter.dispatch('parse_timestamp', 'insurance_cdp')(expr, fmt)) }}
{%- endmacro %}
{% macro default__parse_timestamp(expr, fmt) -%}
    to_timestamp({{ expr }}, '{{ strptime_to_java(fmt) }}')
{%- endmacro %}
{% macro duckdb__parse_timestamp(expr, fmt) -%}
    cast(try_strptime({{ expr }}, '{{ fmt }}') as timestamp)
{%- endmacro %}

{# ISO-8601 text with an offset (e.g. 2024-01-02T09:30:00+08:00) -> naive local timestamp. #}
{% macro parse_iso_timestamp(expr) -%}
    {{ return(adapter.dispatch('parse_iso_timestamp', 'insurance_cdp')(expr)) }}
{%- endmacro %}
{% macro default__parse_iso_timestamp(expr) -%}
    from_utc_timestamp(to_timestamp({{ expr }}), '{{ var("cdp_timezone") }}')
{%- endmacro %}
{% macro duckdb__parse_iso_timestamp(expr) -%}
    timezone('{{ var("cdp_timezone") }}', try_cast({{ expr }} as timestamp with time zone))
{%- endmacro %}

{# Integer milliseconds since the Unix epoch -> naive local timestamp. #}
{% macro epoch_ms_to_timestamp(expr) -%}
    {{ return(adapter.dispatch('epoch_ms_to_timestamp', 'insurance_cdp')(expr)) }}
{%- endmacro %}
{% macro default__epoch_ms_to_timestamp(expr) -%}
    from_utc_timestamp(timestamp_millis({{ expr }}), '{{ var("cdp_timezone") }}')
{%- endmacro %}
{% macro duckdb__epoch_ms_to_timestamp(expr) -%}
    timezone('{{ var("cdp_timezone") }}', timezone('UTC', epoch_ms({{ expr }})))
{%- endmacro %}

{# A time-zone-aware timestamp (Parquet timestamp[ms, tz]) -> naive local timestamp. #}
{% macro to_local_timestamp(expr) -%}
    {{ return(adapter.dispatch('to_local_timestamp', 'insurance_cdp')(expr)) }}
{%- endmacro %}
{% macro default__to_local_timestamp(expr) -%}
    from_utc_timestamp({{ expr }}, '{{ var("cdp_timezone") }}')
{%- endmacro %}
{% macro duckdb__to_local_timestamp(expr) -%}
    timezone('{{ var("cdp_timezone") }}', cast({{ expr }} as timestamp with time zone))
{%- endmacro %}

{#
  One row per character of `text_column`: (name, pos, ch), pos 1-based. `relation` is a CTE
  or relation holding the texts; used to look characters up in a seed (pinyin).
#}
{% macro explode_chars(relation, text_column) -%}
    {{ return(adapter.dispatch('explode_chars', 'insurance_cdp')(relation, text_column)) }}
{%- endmacro %}
{% macro default__explode_chars(relation, text_column) -%}
    select t.{{ text_column }} as name, c.pos + 1 as pos, c.ch
    from {{ relation }} as t
    lateral view posexplode(split(t.{{ text_column }}, '(?!$)')) c as pos, ch
{%- endmacro %}
{% macro duckdb__explode_chars(relation, text_column) -%}
    select name, pos, substr(name, cast(pos as integer), 1) as ch
    from (
        select {{ text_column }} as name, unnest(range(1, length({{ text_column }}) + 1)) as pos
        from {{ relation }}
    ) as exploded
{%- endmacro %}

{# The type of an instant (lineage `_loaded_at`): DuckDB's TIMESTAMPTZ; Spark's TIMESTAMP is one. #}
{% macro type_timestamp_tz() -%}
    {{ return(adapter.dispatch('type_timestamp_tz', 'insurance_cdp')()) }}
{%- endmacro %}
{% macro default__type_timestamp_tz() -%}
    {{ dbt.type_timestamp() }}
{%- endmacro %}
{% macro duckdb__type_timestamp_tz() -%}
    timestamp with time zone
{%- endmacro %}

{# Cast that yields null instead of failing (optional columns may hold garbage). DuckDB and
   Spark >= 3.2 both have try_cast; dbt's own safe_cast falls back to a failing cast on DuckDB. #}
{% macro try_cast(expr, type) -%}
    {{ return(adapter.dispatch('try_cast', 'insurance_cdp')(expr, type)) }}
{%- endmacro %}
{% macro default__try_cast(expr, type) -%}
    try_cast({{ expr }} as {{ type }})
{%- endmacro %}
