{#-
  The tag columns of marts.customer_tag_profile as its YAML documents them (every column but
  the keys), optionally only those whose `meta.sensitivity` is in `sensitivities`. Read from the
  project graph at execution time (empty while parsing).
-#}
{% macro tag_columns(sensitivities=none) -%}
    {%- set names = [] -%}
    {%- if execute -%}
        {%- set node = graph.nodes.get('model.insurance_cdp.customer_tag_profile') -%}
        {%- for name, column in (node.columns.items() if node else []) -%}
            {%- if name not in ['customer_id', 'as_of']
                  and (sensitivities is none or (column.meta or {}).get('sensitivity') in sensitivities) -%}
                {%- do names.append(name) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(names) }}
{%- endmacro %}
