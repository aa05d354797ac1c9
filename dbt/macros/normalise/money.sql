{#- Money in yuan as decimal(18,2). `premium_annual`-style text with thousands separators is
    already stripped and parsed by contract_typed (decimal with thousands_separator). -#}
{% macro money_yuan(expr) -%}
    cast({{ expr }} as decimal(18, 2))
{%- endmacro %}

{#- Integer fen (1/100 yuan) -> yuan. -#}
{% macro fen_to_yuan(expr) -%}
    cast(cast({{ expr }} as decimal(38, 6)) / 100 as decimal(18, 2))
{%- endmacro %}
