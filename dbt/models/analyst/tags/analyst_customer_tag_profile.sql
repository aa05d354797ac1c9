{{ config(materialized='view', schema='analyst', alias='customer_tag_profile', tags=['tags', 'analyst']) }}
-- Analyst-facing tag profile: the public and internal tag columns of marts.customer_tag_profile
-- (by the `meta.sensitivity` of its YAML); sensitive and restricted tags are left out.
select
    cast({{ pseudonym_token('customer_id', 'customer') }} as {{ dbt.type_string() }}) as customer_token,
    as_of
    {%- for tag in tag_columns(['public', 'internal']) %},
    {{ tag }}
    {%- endfor %}
from {{ ref('customer_tag_profile') }}
