{#-
  THE engine folder: every piece of SQL that differs between DuckDB and Spark is a macro here,
  dispatched per adapter (`duckdb__`, `spark__`, and `default__` = the ANSI-closest form). Models
  and the other macro folders use only these macros and dbt's cross-database macros; the unit
  test tests/unit/test_portable_sql.py rejects engine-only syntax anywhere else.

  Regular expressions are RE2 (DuckDB) / Java (Spark) syntax written once, as the engine should
  see them; `regex_literal` writes one as a string literal (Spark's parser unescapes
  backslashes in literals, DuckDB's does not).
-#}

{# A regular expression as a SQL string literal of the engine. #}
{% macro regex_literal(pattern) -%}
    {{ return(adapter.dispatch('regex_literal', 'insurance_cdp')(pattern)) }}
{%- endmacro %}
{% macro default__regex_literal(pattern) -%}
    '{{ pattern | replace("'", "''") }}'
{%- endmacro %}
{% macro spark__regex_literal(pattern) -%}
    '{{ pattern | replace("\\", "\\\\") | replace("'", "''") }}'
{%- endmacro %}

{# Replace every match of `pattern` (RE2 / Java regex) in `expr`. #}
{% macro regexp_replace_all(expr, pattern, replacement) -%}
    {{ return(adapter.dispatch('regexp_replace_all', 'insurance_cdp')(expr, pattern, replacement)) }}
{%- endmacro %}
{# `replacement` is plain text (no group references): Java would read `$` and `\` in it. #}
{% macro default__regexp_replace_all(expr, pattern, replacement) -%}
    regexp_replace({{ expr }}, {{ regex_literal(pattern) }}, {{ regex_literal(replacement) }})
{%- endmacro %}
{% macro duckdb__regexp_replace_all(expr, pattern, replacement) -%}
    regexp_replace({{ expr }}, {{ regex_literal(pattern) }}, {{ regex_literal(replacement) }}, 'g')
{%- endmacro %}

{# True when `expr` contains a match of `pattern` (anchor the pattern for a full match). #}
{% macro regexp_like(expr, pattern) -%}
    {{ return(adapter.dispatch('regexp_like', 'insurance_cdp')(expr, pattern)) }}
{%- endmacro %}
{% macro default__regexp_like(expr, pattern) -%}
    ({{ expr }} rlike {{ regex_literal(pattern) }})
{%- endmacro %}
{% macro duckdb__regexp_like(expr, pattern) -%}
    regexp_matches({{ expr }}, {{ regex_literal(pattern) }})
{%- endmacro %}

{# Group `group` (0: the whole match) of the first match of `pattern` in `expr`; '' when none. #}
{% macro regexp_extract(expr, pattern, group=0) -%}
    {{ return(adapter.dispatch('regexp_extract', 'insurance_cdp')(expr, pattern, group)) }}
{%- endmacro %}
{% macro default__regexp_extract(expr, pattern, group=0) -%}
    regexp_extract({{ expr }}, {{ regex_literal(pattern) }}, {{ group }})
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
{#- Spark: null when the text does not parse (ANSI off, timeParserPolicy CORRECTED); the text
    must also be exactly as long as the format's output, as strptime requires. -#}
{% macro spark__parse_date(expr, fmt) -%}
    case when length({{ expr }}) = {{ strptime_length(fmt) }} then to_date({{ expr }}, '{{ strptime_to_java(fmt) }}') end
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
{% macro spark__parse_timestamp(expr, fmt) -%}
    case when length({{ expr }}) = {{ strptime_length(fmt) }} then to_timestamp_ntz({{ expr }}, '{{ strptime_to_java(fmt) }}') end
{%- endmacro %}

{# Length of a strptime format's output with zero-padded fields (%Y 4, the others 2). #}
{% macro strptime_length(fmt) -%}
    {{- (fmt | replace('%Y', 'YYYY') | replace('%m', 'mm') | replace('%d', 'dd') | replace('%H', 'HH') | replace('%M', 'MM') | replace('%S', 'SS')) | length -}}
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
{#- Spark: the instant (TIMESTAMP_LTZ) as a wall-clock time of the session time zone, which the
    profile pins to the contract's (checked by spark__create_raw_views). -#}
{% macro spark__parse_iso_timestamp(expr) -%}
    cast(cast({{ expr }} as timestamp_ltz) as timestamp_ntz)
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
{% macro spark__epoch_ms_to_timestamp(expr) -%}
    cast(timestamp_millis({{ expr }}) as timestamp_ntz)
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
{% macro spark__to_local_timestamp(expr) -%}
    cast(cast({{ expr }} as timestamp_ltz) as timestamp_ntz)
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
{#- Spark: by code point (length and substr count code points), like DuckDB. -#}
{% macro spark__explode_chars(relation, text_column) -%}
    select name, pos, substr(name, pos, 1) as ch
    from (
        select {{ text_column }} as name, explode(sequence(1, length({{ text_column }}))) as pos
        from {{ relation }}
        where length({{ text_column }}) > 0
    ) as exploded
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
{% macro spark__type_timestamp_tz() -%}
    timestamp_ltz
{%- endmacro %}

{# A naive local date-time (DuckDB TIMESTAMP; Spark TIMESTAMP_NTZ, the profile's timestampType). #}
{% macro type_timestamp_local() -%}
    {{ return(adapter.dispatch('type_timestamp_local', 'insurance_cdp')()) }}
{%- endmacro %}
{% macro default__type_timestamp_local() -%}
    timestamp
{%- endmacro %}
{% macro spark__type_timestamp_local() -%}
    timestamp_ntz
{%- endmacro %}

{#-
  A column type written in DuckDB's words (the `data_type` of the sources the Python assets
  write, e.g. `varchar not null`, `timestamp with time zone`) as the engine's DDL type.
-#}
{% macro ddl_type(data_type) -%}
    {{ return(adapter.dispatch('ddl_type', 'insurance_cdp')(data_type)) }}
{%- endmacro %}
{% macro default__ddl_type(data_type) -%}
    {{ data_type }}
{%- endmacro %}
{% macro spark__ddl_type(data_type) -%}
    {%- set t = data_type | lower | replace(' not null', '') | trim -%}
    {%- set mapped = {'varchar': 'string', 'text': 'string', 'timestamp with time zone': 'timestamp_ltz',
                      'timestamptz': 'timestamp_ltz', 'timestamp': 'timestamp_ntz', 'integer': 'int'} -%}
    {{- mapped.get(t, t) -}}
{%- endmacro %}

{#-
  Order-preserving string aggregation: `measure` of each row joined by `delimiter` (a literal)
  in `order_column` order, nulls skipped. dbt's listagg ignores the order on Spark.
-#}
{% macro ordered_listagg(measure, delimiter, order_column) -%}
    {{ return(adapter.dispatch('ordered_listagg', 'insurance_cdp')(measure, delimiter, order_column)) }}
{%- endmacro %}
{% macro default__ordered_listagg(measure, delimiter, order_column) -%}
    {{ dbt.listagg(measure, delimiter, 'order by ' ~ order_column) }}
{%- endmacro %}
{% macro spark__ordered_listagg(measure, delimiter, order_column) -%}
    case when count({{ measure }}) > 0 then array_join(transform(array_sort(collect_list(
        case when ({{ measure }}) is not null then named_struct('k', {{ order_column }}, 'v', {{ measure }}) end
    )), x -> x.v), {{ delimiter }}) end
{%- endmacro %}

{# The distinct non-null values of `expr`, sorted, joined by `delimiter` (a literal); null when none. #}
{% macro sorted_distinct_listagg(expr, delimiter) -%}
    {{ return(adapter.dispatch('sorted_distinct_listagg', 'insurance_cdp')(expr, delimiter)) }}
{%- endmacro %}
{% macro default__sorted_distinct_listagg(expr, delimiter) -%}
    {{ dbt.listagg('distinct ' ~ expr, delimiter, 'order by ' ~ expr) }}
{%- endmacro %}
{% macro spark__sorted_distinct_listagg(expr, delimiter) -%}
    case when count({{ expr }}) > 0 then array_join(array_sort(collect_set({{ expr }})), {{ delimiter }}) end
{%- endmacro %}

{#-
  Incremental models replace whole partitions on both engines: `config(**replace_partitions(
  ['_business_date']))`. DuckDB deletes the partitions' rows and inserts them again; Spark on
  plain Parquet (no MERGE) overwrites the partitions present in the new rows (dynamic
  partition overwrite, set in the profile).
-#}
{% macro replace_partitions(columns) -%}
    {{ return(adapter.dispatch('replace_partitions', 'insurance_cdp')(columns)) }}
{%- endmacro %}
{% macro default__replace_partitions(columns) -%}
    {{ return({'incremental_strategy': 'delete+insert', 'unique_key': columns}) }}
{%- endmacro %}
{% macro spark__replace_partitions(columns) -%}
    {{ return({'incremental_strategy': 'insert_overwrite', 'partition_by': columns, 'file_format': 'parquet'}) }}
{%- endmacro %}

{#-
  Empty the partitions of an incremental model whose `column` value is one of `values_sql`'s
  (a one-column query), before the run writes them again: a partition the new rows leave empty
  (every row of a re-run date dropped) must not keep its earlier rows. A pre-hook:
  `pre_hook="{% if is_incremental() %}{{ clear_partitions(this, 'as_of', '<query>') }}{% endif %}"`.
  DuckDB deletes the rows; Spark drops the partitions (plain Parquet has no DELETE).
-#}
{% macro clear_partitions(relation, column, values_sql) -%}
    {{ return(adapter.dispatch('clear_partitions', 'insurance_cdp')(relation, column, values_sql)) }}
{%- endmacro %}
{% macro default__clear_partitions(relation, column, values_sql) -%}
    delete from {{ relation }} where {{ column }} in ({{ values_sql }})
{%- endmacro %}
{% macro spark__clear_partitions(relation, column, values_sql) -%}
    {%- set values = run_query(values_sql).columns[0].values() if execute else [] -%}
    {%- if values | length > 1 -%}
        {{ exceptions.raise_compiler_error("clear_partitions on Spark drops one partition per hook; " ~ values_sql ~ " returned " ~ (values | length)) }}
    {%- endif -%}
    {%- if values -%}
        alter table {{ relation }} drop if exists partition ({{ column }} = '{{ values[0] }}')
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{# Lower-case hex SHA-256 of a text. #}
{% macro sha256_hex(expr) -%}
    {{ return(adapter.dispatch('sha256_hex', 'insurance_cdp')(expr)) }}
{%- endmacro %}
{% macro default__sha256_hex(expr) -%}
    lower(sha2({{ expr }}, 256))
{%- endmacro %}
{% macro duckdb__sha256_hex(expr) -%}
    lower(sha256({{ expr }}))
{%- endmacro %}

{# Cast that yields null instead of failing (optional columns may hold garbage). DuckDB and
   Spark >= 3.2 both have try_cast; dbt's own safe_cast falls back to a failing cast on DuckDB. #}
{% macro try_cast(expr, type) -%}
    {{ return(adapter.dispatch('try_cast', 'insurance_cdp')(expr, type)) }}
{%- endmacro %}
{% macro default__try_cast(expr, type) -%}
    try_cast({{ expr }} as {{ type }})
{%- endmacro %}

{#-
  dbt's dateadd / datediff on Spark, overridden for this project: dbt-spark's go through
  to_timestamp(unix seconds), which a TIMESTAMP_NTZ session (the profile's timestampType) does
  not accept, so every window comparison turned null. Here they work on the naive wall clock,
  like DuckDB's: dateadd returns a timestamp (DuckDB: date + interval), datediff counts the
  datepart boundaries crossed (DuckDB's date_diff).
-#}
{% macro spark__dateadd(datepart, interval, from_date_or_timestamp) -%}
    timestampadd({{ datepart | upper }}, {{ interval }}, cast({{ from_date_or_timestamp }} as timestamp_ntz))
{%- endmacro %}

{% macro spark__datediff(first_date, second_date, datepart) -%}
    {%- set a = "cast(" ~ first_date ~ " as timestamp_ntz)" -%}
    {%- set b = "cast(" ~ second_date ~ " as timestamp_ntz)" -%}
    {%- if datepart == 'day' -%}
        datediff(cast({{ second_date }} as date), cast({{ first_date }} as date))
    {%- elif datepart in ('hour', 'minute', 'second') -%}
        timestampdiff({{ datepart | upper }}, cast(date_trunc('{{ datepart | upper }}', {{ a }}) as timestamp_ntz),
                      cast(date_trunc('{{ datepart | upper }}', {{ b }}) as timestamp_ntz))
    {%- elif datepart == 'month' -%}
        ((year({{ b }}) * 12 + month({{ b }})) - (year({{ a }}) * 12 + month({{ a }})))
    {%- elif datepart == 'quarter' -%}
        ((year({{ b }}) * 4 + quarter({{ b }})) - (year({{ a }}) * 4 + quarter({{ a }})))
    {%- elif datepart == 'year' -%}
        (year({{ b }}) - year({{ a }}))
    {%- else -%}
        {{ exceptions.raise_compiler_error("datediff by " ~ datepart ~ " has no Spark form in this project (macros/engine)") }}
    {%- endif -%}
{%- endmacro %}
