{{ config(materialized='view', schema='analyst', alias='customer_tags', tags=['tags', 'analyst']) }}
-- Analyst-facing customer tags: only tags whose dictionary sensitivity is public or internal.
select cast({{ pseudonym_token('customer_id', 'customer') }} as {{ dbt.type_string() }}) as customer_token,
       tag_code, tag_value, category, sensitivity, computed_at, as_of
from {{ ref('customer_tags') }}
where sensitivity in ('public', 'internal')
