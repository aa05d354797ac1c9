{{ config(materialized='table', schema='marts', tags=['tags']) }}
{#-
  The tags in long form: one row per customer and tag that has a value (customer_tag_profile
  unpivoted), with the tag's category and sensitivity from the tag dictionary. Restricted
  audience; analysts read analyst.customer_tags (public and internal tags only).
-#}
{%- set tags = tag_columns() %}
with long as (
    {%- for tag in tags %}
    select customer_id, as_of, '{{ tag }}' as tag_code, {{ tag }} as tag_value
    from {{ ref('customer_tag_profile') }}
    where {{ tag }} is not null
    {{ 'union all' if not loop.last }}
    {%- endfor %}
    {%- if not tags %}
    select customer_id, as_of, cast(null as {{ dbt.type_string() }}) as tag_code, cast(null as {{ dbt.type_string() }}) as tag_value
    from {{ ref('customer_tag_profile') }} where 1 = 0
    {%- endif %}
)

select
    cast(l.customer_id as {{ dbt.type_string() }}) as customer_id,
    cast(l.tag_code as {{ dbt.type_string() }}) as tag_code,
    cast(l.tag_value as {{ dbt.type_string() }}) as tag_value,
    cast(d.category as {{ dbt.type_string() }}) as category,
    cast(d.sensitivity as {{ dbt.type_string() }}) as sensitivity,
    cast({{ dbt.current_timestamp() }} as timestamp) as computed_at,
    cast(l.as_of as date) as as_of
from long as l
inner join {{ ref('tag_dictionary') }} as d on d.tag_code = l.tag_code
