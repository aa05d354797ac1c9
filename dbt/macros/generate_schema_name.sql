{#- Custom schema names are used as they are (`staging`, `core`, ...), not prefixed with the
    target schema: the warehouse has one set of layer schemas per database file. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
