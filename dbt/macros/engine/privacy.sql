{#-
  Masking and tokenising for the `analyst` schema (dbt/models/analyst). Portable SQL: substr,
  length and repeat exist in DuckDB and Spark; the hash goes through sha256_hex (dispatched in
  macros/identity/identity.sql).
-#}

{# An identity number with only its first 3 and last 4 characters: 110***********123X. #}
{% macro mask_id_no(expr) -%}
    {{ return(adapter.dispatch('mask_id_no', 'insurance_cdp')(expr)) }}
{%- endmacro %}
{% macro default__mask_id_no(expr) -%}
    case
        when {{ expr }} is null then null
        when length({{ expr }}) >= 8
            then {{ dbt.concat(["substr(" ~ expr ~ ", 1, 3)", "repeat('*', length(" ~ expr ~ ") - 7)",
                                "substr(" ~ expr ~ ", length(" ~ expr ~ ") - 3, 4)"]) }}
        else repeat('*', length({{ expr }}))
    end
{%- endmacro %}

{# A mobile with its first 3 and last 4 digits: 138****8000 (other lengths fully masked). #}
{% macro mask_mobile(expr) -%}
    {{ return(adapter.dispatch('mask_mobile', 'insurance_cdp')(expr)) }}
{%- endmacro %}
{% macro default__mask_mobile(expr) -%}
    case
        when {{ expr }} is null then null
        when length({{ expr }}) = 11
            then {{ dbt.concat(["substr(" ~ expr ~ ", 1, 3)", "'****'", "substr(" ~ expr ~ ", 8, 4)"]) }}
        else repeat('*', length({{ expr }}))
    end
{%- endmacro %}

{#
  A salted, stable token of an identifier (customer id, household id): the same value gives the
  same token in every table and every run, so analysts can join on it, and without the salt it
  cannot be reversed or recomputed. The salt is CDP_TOKEN_SALT (set by the pipeline; see the
  README, "Privacy"); `kind` keeps tokens of different identifiers apart.
#}
{% macro pseudonym_token(expr, kind) -%}
    {%- set salt = env_var('CDP_TOKEN_SALT', '') -%}
    {%- if execute and not salt -%}
        {{ exceptions.raise_compiler_error("CDP_TOKEN_SALT is not set: analyst tokens need the secret salt (cdp build sets it)") }}
    {%- endif -%}
    case when {{ expr }} is not null then
        {{ dbt.concat(["'T'", "substr(" ~ sha256_hex(dbt.concat(["'" ~ (salt | replace("'", "''")) ~ "|" ~ kind ~ "|'",
                                                              "cast(" ~ expr ~ " as " ~ dbt.type_string() ~ ")"])) ~ ", 1, 24)"]) }}
    end
{%- endmacro %}
