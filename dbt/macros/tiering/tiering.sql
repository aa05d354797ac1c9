{#- A rule's list column (`*`, or values separated by `|`) matches `value`. Portable SQL. -#}
{% macro tiering_matches(list_column, value) -%}
    ({{ list_column }} = '*' or {{ dbt.concat(["'|'", list_column, "'|'"]) }} like {{ dbt.concat(["'%|'", value, "'|%'"]) }})
{%- endmacro %}
