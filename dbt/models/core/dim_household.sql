-- One row per household (int_customer_households): its members, the head (the member holding
-- the most policies, then the earliest customer), and the policies its members hold.
with members as (
    select h.household_id, h.customer_id, h.linked_by_policy, h.linked_by_mobile, d.first_seen_date
    from {{ ref('int_customer_households') }} as h
    inner join {{ ref('dim_customer') }} as d on d.customer_id = h.customer_id
),

held as (
    select customer_id, count(distinct policy_no) as policies_held
    from {{ ref('int_customer_records') }}
    where source_system = 'policy_admin' and role = 'holder'
    group by customer_id
),

ranked as (
    select
        m.*,
        coalesce(p.policies_held, 0) as policies_held,
        row_number() over (
            partition by m.household_id
            order by coalesce(p.policies_held, 0) desc, m.first_seen_date asc nulls last, m.customer_id asc nulls last
        ) as head_rank
    from members as m
    left join held as p on p.customer_id = m.customer_id
)

select
    household_id,
    count(*) as member_count,
    max(case when head_rank = 1 then customer_id end) as head_customer_id,
    {{ ordered_listagg('customer_id', "','", 'customer_id') }} as member_customer_ids,
    sum(policies_held) as policies_held,
    max(case when linked_by_policy then 1 else 0 end) = 1 as linked_by_policy,
    max(case when linked_by_mobile then 1 else 0 end) = 1 as linked_by_mobile,
    min(first_seen_date) as first_seen_date
from ranked
group by household_id
