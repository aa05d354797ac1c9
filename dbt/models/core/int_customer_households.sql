{#-
  Households: person customers joined by a policy one holds on the other (insured_relation
  spouse / child / parent) or by a shared mobile (valid, not a placeholder, held by at most
  `max_mobile_sharers` customers: a number many customers give is an agent's or an office's, not
  a family's). Connected components by label propagation (portable SQL: a fixed number of
  rounds, each a join; households are small, so `rounds` hops reach across any of them).
  One row per person customer; a customer linked to nobody is a household of one.
-#}
{%- set rounds = 8 -%}
{%- set max_mobile_sharers = 6 -%}

with persons as (
    select distinct customer_id
    from {{ ref('int_customer_records') }}
    where party_type = 'person'
),

policy_links as (
    select distinct h.customer_id as a, i.customer_id as b, 'policy' as link
    from {{ ref('int_customer_records') }} as h
    inner join {{ ref('int_customer_records') }} as i
        on i.policy_no = h.policy_no
        and i.source_system = 'policy_admin' and i.role = 'insured'
    where h.source_system = 'policy_admin' and h.role = 'holder' and h.party_type = 'person'
      and i.relation_to_holder in ('spouse', 'child', 'parent')
      and h.customer_id <> i.customer_id
),

mobiles as (
    select mobile, customer_id
    from {{ ref('int_customer_records') }}
    where party_type = 'person' and mobile_valid and not mobile_is_junk
    group by mobile, customer_id
),

shared_mobiles as (
    select mobile from mobiles group by mobile
    having count(*) between 2 and {{ max_mobile_sharers }}
),

mobile_links as (
    select distinct m1.customer_id as a, m2.customer_id as b, 'mobile' as link
    from mobiles as m1
    inner join shared_mobiles as s on s.mobile = m1.mobile
    inner join mobiles as m2 on m2.mobile = m1.mobile and m2.customer_id <> m1.customer_id
),

links as (
    select a, b, link from policy_links
    union all select b as a, a as b, link from policy_links
    union all select a, b, link from mobile_links
),

edges as (
    select distinct a, b from links
),

-- every person's neighbours and itself: one round takes the least label among them
neighbourhood as (
    select e.a, e.b from edges as e inner join persons as p on p.customer_id = e.a
    union all
    select customer_id as a, customer_id as b from persons
),

labels_0 as (
    select customer_id, customer_id as label from persons
),
{# each round reads the previous one once (an engine that inlines CTEs, like Spark, would
   otherwise plan 2^rounds copies) #}
{% for i in range(1, rounds + 1) %}
labels_{{ i }} as (
    select nb.a as customer_id, min(n.label) as label
    from neighbourhood as nb
    inner join labels_{{ i - 1 }} as n on n.customer_id = nb.b
    group by nb.a
),
{% endfor %}

evidence as (
    select a as customer_id,
           max(case when link = 'policy' then 1 else 0 end) = 1 as linked_by_policy,
           max(case when link = 'mobile' then 1 else 0 end) = 1 as linked_by_mobile
    from links
    group by a
)

select
    l.customer_id,
    cast('H' || substr(l.label, 2) as {{ dbt.type_string() }}) as household_id,
    coalesce(e.linked_by_policy, false) as linked_by_policy,
    coalesce(e.linked_by_mobile, false) as linked_by_mobile
from labels_{{ rounds }} as l
left join evidence as e on e.customer_id = l.customer_id
