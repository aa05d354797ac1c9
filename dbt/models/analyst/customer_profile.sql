-- The golden record for analysts: identifiers tokenised or masked, names absent, birth date
-- generalised to the year, and the marketing restriction flag.
select
    cast({{ pseudonym_token('c.customer_id', 'customer') }} as {{ dbt.type_string() }}) as customer_token,
    cast(c.party_type as {{ dbt.type_string() }}) as party_type,
    cast(c.resolution_status as {{ dbt.type_string() }}) as resolution_status,
    cast(c.id_type as {{ dbt.type_string() }}) as id_type,
    cast({{ mask_id_no('c.id_no') }} as {{ dbt.type_string() }}) as id_no_masked,
    cast(c.id_no_kind as {{ dbt.type_string() }}) as id_no_kind,
    cast({{ mask_mobile('c.mobile') }} as {{ dbt.type_string() }}) as mobile_masked,
    cast(extract(year from c.birth_date) as integer) as birth_year,
    cast(c.gender as {{ dbt.type_string() }}) as gender,
    cast({{ pseudonym_token('c.household_id', 'household') }} as {{ dbt.type_string() }}) as household_token,
    cast(c.record_count as bigint) as record_count,
    cast(c.source_system_count as bigint) as source_system_count,
    cast(c.has_valid_id as boolean) as has_valid_id,
    cast(c.first_seen_date as date) as first_seen_date,
    cast(c.last_seen_date as date) as last_seen_date,
    cast(r.customer_id is not null as boolean) as is_marketing_restricted
from {{ ref('dim_customer') }} as c
left join (select distinct customer_id from {{ source('privacy', 'marketing_restrictions') }}) as r
    on r.customer_id = c.customer_id
