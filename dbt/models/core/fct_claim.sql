{#-
  One row per claim (its current version, staging.stg_claims__claims) with the claimant's
  customer (identity resolution of the claim record) and the customer owning the claimed policy
  (core.fct_policy), who may differ: a spouse claiming on the holder's policy.
-#}
with claimants as (
    select source_record_id as claim_id, customer_id
    from {{ ref('int_customer_records') }}
    where source_system = 'claims'
)

select
    cast(c.claim_id as {{ dbt.type_string() }}) as claim_id,
    cast(cl.customer_id as {{ dbt.type_string() }}) as customer_id,
    cast(c.policy_no as {{ dbt.type_string() }}) as policy_no,
    cast(p.customer_id as {{ dbt.type_string() }}) as policy_customer_id,
    cast(p.product_line as {{ dbt.type_string() }}) as product_line,
    cast(c.claim_type as {{ dbt.type_string() }}) as claim_type,
    cast(c.status as {{ dbt.type_string() }}) as status,
    cast(c.incident_date as date) as incident_date,
    cast(c.reported_at as timestamp) as reported_at,
    cast(c.closed_at as timestamp) as closed_at,
    cast(c.claimed_amount as decimal(18, 2)) as claimed_amount,
    cast(c.paid_amount as decimal(18, 2)) as paid_amount,
    cast(c.fraud_suspected as boolean) as fraud_suspected,
    cast(c.updated_at as timestamp) as updated_at,
    cast(c._business_date as date) as business_date
from {{ ref('stg_claims__claims') }} as c
left join claimants as cl
    on cl.claim_id = c.claim_id
left join {{ ref('fct_policy') }} as p
    on p.policy_no = c.policy_no
