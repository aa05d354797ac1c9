{#-
  One row per policy (its current version, staging.stg_policy_admin__policies) with the customers
  identity resolution gave its parties: the holder, the insured, and the owner (`customer_id`),
  the customer the policy counts for everywhere downstream (customer_360, tags, tiering, churn):
  the person holder, else, for group cover held by an enterprise, the insured employee.
-#}
with parties as (
    select policy_no,
           max(case when role = 'holder' then customer_id end) as holder_customer_id,
           max(case when role = 'insured' then customer_id end) as insured_customer_id
    from {{ ref('int_customer_records') }}
    where source_system = 'policy_admin'
    group by policy_no
)

select
    cast(p.policy_no as {{ dbt.type_string() }}) as policy_no,
    cast(case when p.holder_party_type = 'person' then pt.holder_customer_id
              else pt.insured_customer_id end as {{ dbt.type_string() }}) as customer_id,
    cast(pt.holder_customer_id as {{ dbt.type_string() }}) as holder_customer_id,
    cast(pt.insured_customer_id as {{ dbt.type_string() }}) as insured_customer_id,
    cast(p.holder_party_type as {{ dbt.type_string() }}) as holder_party_type,
    cast(p.insured_relation as {{ dbt.type_string() }}) as insured_relation,
    cast(p.product_code as {{ dbt.type_string() }}) as product_code,
    cast(p.product_line as {{ dbt.type_string() }}) as product_line,
    cast(p.channel as {{ dbt.type_string() }}) as channel,
    cast(p.holder_party_type = 'enterprise' as boolean) as is_group_cover,
    cast(p.status as {{ dbt.type_string() }}) as status,
    cast(p.status_code as {{ dbt.type_string() }}) as status_code,
    cast(p.status = 'in_force' as boolean) as is_in_force,
    cast(p.issue_date as date) as issue_date,
    cast(p.effective_date as date) as effective_date,
    cast(p.expiry_date as date) as expiry_date,
    cast(p.premium_annual as decimal(18, 2)) as premium_annual,
    cast(p.payment_freq as {{ dbt.type_string() }}) as payment_freq,
    cast(p.agent_code as {{ dbt.type_string() }}) as agent_code,
    cast(p.branch_code as {{ dbt.type_string() }}) as branch_code,
    cast(p.updated_at as timestamp) as updated_at,
    cast(p._business_date as date) as business_date
from {{ ref('stg_policy_admin__policies') }} as p
left join parties as pt
    on pt.policy_no = p.policy_no
