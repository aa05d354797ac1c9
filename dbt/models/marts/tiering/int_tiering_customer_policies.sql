{{ config(materialized='table', schema='marts', tags=['tiering']) }}
{#-
  Every policy with the customer who owns it (the same rule as core.customer_360: its person
  holder, else for group cover its insured employee), for the tiering and tag marts.
-#}
with records as (
    select customer_id, role, policy_no
    from {{ ref('int_customer_records') }}
    where source_system = 'policy_admin'
),

policy_owner as (
    select p.policy_no,
           coalesce(max(case when r.role = 'holder' and p.holder_party_type = 'person' then r.customer_id end),
                    max(case when r.role = 'insured' then r.customer_id end)) as customer_id
    from {{ ref('stg_policy_admin__policies') }} as p
    inner join records as r on r.policy_no = p.policy_no
    group by p.policy_no
)

select
    cast(o.customer_id as {{ dbt.type_string() }}) as customer_id,
    cast(p.policy_no as {{ dbt.type_string() }}) as policy_no,
    cast(p.product_code as {{ dbt.type_string() }}) as product_code,
    cast(p.product_line as {{ dbt.type_string() }}) as product_line,
    cast(p.channel as {{ dbt.type_string() }}) as channel,
    cast(p.status as {{ dbt.type_string() }}) as status,
    cast(p.insured_relation as {{ dbt.type_string() }}) as insured_relation,
    cast(p.issue_date as date) as issue_date,
    cast(p.expiry_date as date) as expiry_date,
    cast(p.premium_annual as decimal(18, 2)) as premium_annual,
    cast(p.payment_freq as {{ dbt.type_string() }}) as payment_freq,
    cast(p.agent_code as {{ dbt.type_string() }}) as agent_code,
    cast(p.updated_at as timestamp) as updated_at,
    cast(p._business_date as date) as business_date
from {{ ref('stg_policy_admin__policies') }} as p
inner join policy_owner as o on o.policy_no = p.policy_no
where o.customer_id is not null
