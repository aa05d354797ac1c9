{#- Money in yuan as decimal(18,2). `premium_annual`-style text with thousands separators is
    already stripped and parsed by contract_typed (decimal with thousands_separator). -#}
{% macro money_yuan(expr) -%}
    cast({{ expr }} as decimal(18, 2))
{%- endmacro %}

{#- Integer fen (1/100 yuan) -> yuan. -#}
{% macro fen_to_yuan(expr) -%}
    cast(cast({{ expr }} as decimal(38, 6)) / 100 as decimal(18, 2))
{%- endmacro %}

{#- A number (often a double: a sum of weighted amounts, a score) as decimal(precision, scale),
    rounded the same way on every engine: through decimal(38, 10) first, so that the last bits
    a double sum picks up from its summation order (which differs between engines and runs)
    never decide a rounding tie at `scale`. -#}
{% macro to_decimal(expr, precision, scale) -%}
    cast(cast({{ expr }} as decimal(38, 10)) as decimal({{ precision }}, {{ scale }}))
{%- endmacro %}
