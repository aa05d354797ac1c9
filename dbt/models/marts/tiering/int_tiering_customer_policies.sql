{{ config(materialized='table', schema='marts', tags=['tiering']) }}
{#-
  Every policy with the customer who owns it (core.fct_policy: its person holder, else for
  group cover its insured employee), for the tiering and tag marts.
-#}
select
    cast(p.customer_id as {{ dbt.type_string() }}) as customer_id,
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
    cast(p.business_date as date) as business_date
from {{ ref('fct_policy') }} as p
where p.customer_id is not null
