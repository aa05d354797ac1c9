{#-
  The normalised identity columns of a person-bearing staging model, from the step-1 columns
  of its `cleaned` CTE (id_no_clean / mobile_clean / normalise_person_name):

    {{ id_no_columns('holder_id_no', 'holder_id_no_clean', 'holder_id_no', 'holder_id_type') }}
      -> holder_id_no (canonical), holder_id_no_raw, holder_id_no_valid, holder_id_no_kind
    {{ mobile_columns('holder_mobile', 'holder_mobile_clean') }}
      -> holder_mobile (canonical), holder_mobile_valid, holder_mobile_is_junk
-#}
{% macro id_no_columns(out, clean, raw, id_type=none) -%}
    cast({{ id_no_canonical(clean, id_type) }} as {{ dbt.type_string() }}) as {{ out }},
    cast({{ raw }} as {{ dbt.type_string() }}) as {{ out }}_raw,
    cast({{ id_no_valid(clean, id_type) }} as boolean) as {{ out }}_valid,
    cast({{ id_no_kind(clean, id_type) }} as {{ dbt.type_string() }}) as {{ out }}_kind
{%- endmacro %}

{% macro mobile_columns(out, clean) -%}
    cast({{ clean }} as {{ dbt.type_string() }}) as {{ out }},
    cast({{ mobile_valid(clean) }} as boolean) as {{ out }}_valid,
    cast({{ mobile_is_junk(clean) }} as boolean) as {{ out }}_is_junk
{%- endmacro %}

{#- The lineage columns every staging model keeps (from contract_typed). -#}
{% macro lineage_columns(alias=none) -%}
    {%- set p = alias ~ '.' if alias else '' -%}
    cast({{ p }}_invalid_columns as {{ dbt.type_string() }}) as _invalid_columns,
    cast({{ p }}_business_date as date) as _business_date,
    cast({{ p }}_source_file as {{ dbt.type_string() }}) as _source_file,
    cast({{ p }}_row_number as bigint) as _row_number,
    cast({{ p }}_loaded_at as {{ type_timestamp_tz() }}) as _loaded_at
{%- endmacro %}

{#-
  Step 1 of the person normalisers: `relation`.* plus `<column>_clean` for each person name
  (normalise_person_name), identity number (id_no_clean) and mobile (mobile_clean) column.
  Names are normalise_text'ed in an inner select first (helper columns `<column>__text`).
-#}
{% macro person_columns_cleaned(relation, names=[], id_nos=[], mobiles=[]) -%}
    select
        texts.*
        {%- for c in names %},
        {{ person_name_from_text(c ~ '__text') }} as {{ c }}_clean
        {%- endfor %}
        {%- for c in id_nos %},
        {{ id_no_clean(c) }} as {{ c }}_clean
        {%- endfor %}
        {%- for c in mobiles %},
        {{ mobile_clean(c) }} as {{ c }}_clean
        {%- endfor %}
    from (
        select
            {{ relation }}.*
            {%- for c in names %},
            {{ normalise_text(c) }} as {{ c }}__text
            {%- endfor %}
        from {{ relation }}
    ) as texts
{%- endmacro %}
