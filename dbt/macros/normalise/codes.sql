{#-
  Source codes -> the platform's one vocabulary, by seed `code_map` (domain, source_value,
  canonical_value, label_en, label_zh). A value without a mapping becomes null (and the
  staging tests' accepted_values keep the vocabulary closed).
-#}
{% macro map_code(domain, expr) -%}
    (select code_map.canonical_value from {{ ref('code_map') }} as code_map
     where code_map.domain = '{{ domain }}' and code_map.source_value = {{ expr }})
{%- endmacro %}
