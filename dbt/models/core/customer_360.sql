{#-
  Per customer, the joined picture across the twelve systems, as of the latest business date
  delivered (`as_of_date`: the latest policy_admin business date). Facts reach a customer through
  its person records (identity.customer_xref): policies (as holder, or as the insured employee of
  group cover), claims, tickets, app accounts, bank CIFs, WeCom contacts, external bands; and
  through those, what is keyed by policy (billing, touches, benefits: the policy's holder, or
  the insured of group cover) or by mobile (touches, consents and benefits without a policy:
  the one customer whose golden mobile it is; a number two customers share attaches to neither).
-#}

with as_of as (
    select max(_business_date) as as_of_date from {{ ref('stg_policy_admin__policies') }}
),

records as (
    select customer_id, source_system, source_entity, role, source_record_id, policy_no
    from {{ ref('int_customer_records') }}
),

-- the customer a policy belongs to (core.fct_policy): its person holder, else (group cover) its insured employee
policy_owner as (
    select policy_no, customer_id from {{ ref('fct_policy') }}
),

mobile_owner as (
    select mobile, min(customer_id) as customer_id
    from {{ ref('dim_customer') }}
    where mobile is not null and party_type = 'person'
    group by mobile
    having count(*) = 1
),

policies as (
    select
        o.customer_id,
        count(*) as policies,
        sum(case when p.status = 'in_force' then 1 else 0 end) as policies_in_force,
        sum(case when p.status = 'lapsed' then 1 else 0 end) as policies_lapsed,
        sum(case when p.status = 'surrendered' then 1 else 0 end) as policies_surrendered,
        sum(case when p.channel = 'group' then 1 else 0 end) as group_covers,
        sum(case when p.status = 'in_force' then p.premium_annual else 0 end) as annual_premium_in_force,
        {{ sorted_distinct_listagg('p.product_line', "','") }} as product_lines,
        {{ sorted_distinct_listagg('p.channel', "','") }} as channels,
        min(p.issue_date) as first_policy_date
    from {{ ref('stg_policy_admin__policies') }} as p
    inner join policy_owner as o on o.policy_no = p.policy_no
    group by o.customer_id
),

claims as (
    select
        r.customer_id,
        count(*) as claims,
        sum(coalesce(c.paid_amount, 0)) as claims_paid_amount,
        sum(case when c.status = 'rejected' then 1 else 0 end) as claims_rejected,
        sum(case when c.closed_at is null then 1 else 0 end) as claims_open
    from {{ ref('stg_claims__claims') }} as c
    inner join records as r on r.source_system = 'claims' and r.source_record_id = c.claim_id
    group by r.customer_id
),

payments as (
    select
        o.customer_id,
        count(*) as payments_due_12m,
        sum(case when b.status = 'failed' then 1 else 0 end) as payments_failed_12m,
        sum(case when b.status = 'overdue' then 1 else 0 end) as payments_overdue_12m
    from {{ ref('stg_billing__payments') }} as b
    inner join policy_owner as o on o.policy_no = b.policy_no
    cross join as_of
    where b.due_date > {{ dbt.dateadd('month', -12, 'as_of.as_of_date') }}
    group by o.customer_id
),

tickets as (
    select
        r.customer_id,
        count(*) as tickets_12m,
        sum(case when t.category = 'complaint' then 1 else 0 end) as complaints_12m,
        sum(case when t.category = 'surrender_request' then 1 else 0 end) as surrender_requests_12m,
        avg(t.satisfaction) as avg_satisfaction_12m
    from {{ ref('stg_call_center__tickets') }} as t
    inner join records as r on r.source_system = 'call_center' and r.source_entity = 'tickets'
        and r.source_record_id = t.ticket_id
    cross join as_of
    where cast(t.opened_at as date) > {{ dbt.dateadd('month', -12, 'as_of.as_of_date') }}
    group by r.customer_id
),

app as (
    select
        r.customer_id,
        count(distinct r.source_record_id) as app_accounts,
        sum(case when e.event_date > {{ dbt.dateadd('day', -30, 'as_of.as_of_date') }} then 1 else 0 end) as app_events_30d,
        max(e.event_time) as app_last_event_at
    from records as r
    cross join as_of
    left join {{ ref('stg_app_events__events') }} as e on e.user_id = r.source_record_id
    where r.source_system = 'app_events'
    group by r.customer_id
),

bank as (
    select
        r.customer_id,
        count(*) as bank_cifs,
        max(c.aum_band) as aum_band,
        sum(bal.avg_balance) as avg_balance_last_month
    from records as r
    inner join {{ ref('stg_bank_core__customers') }} as c on c.cif_no = r.source_record_id
    left join (
        select cif_no, avg_balance
        from {{ ref('stg_bank_core__monthly_balances') }}
        where month = (select max(month) from {{ ref('stg_bank_core__monthly_balances') }})
    ) as bal on bal.cif_no = c.cif_no
    where r.source_system = 'bank_core'
    group by r.customer_id
),

touches as (
    select
        customer_id,
        count(*) as touches_90d,
        sum(case when clicked_at is not null then 1 else 0 end) as touches_clicked_90d,
        sum(case when converted_policy_no is not null then 1 else 0 end) as touches_converted_90d
    from ({{ attach_by_policy_or_mobile(ref('stg_marketing__touches'), 'sent_at',
                                       dbt.dateadd('day', -90, 'as_of.as_of_date')) }}) as t
    group by customer_id
),

consents as (
    select
        mo.customer_id,
        sum(case when c.consent = 'opt_out' then 1 else 0 end) as marketing_channels_opted_out,
        sum(case when c.consent = 'opt_in' then 1 else 0 end) as marketing_channels_opted_in
    from (
        select mobile, channel, consent,
               row_number() over (partition by mobile, channel order by recorded_at desc nulls last, _business_date desc nulls last, _row_number desc nulls last) as rn
        from {{ ref('stg_marketing__consents') }}
        where mobile_valid and not mobile_is_junk
    ) as c
    inner join mobile_owner as mo on mo.mobile = c.mobile
    where c.rn = 1
    group by mo.customer_id
),

benefits as (
    select customer_id, count(*) as benefit_uses_12m, sum(cost) as benefit_cost_12m
    from ({{ attach_by_policy_or_mobile(ref('stg_benefits__service_usage'), 'used_at',
                                       dbt.dateadd('month', -12, 'as_of.as_of_date')) }}) as u
    group by customer_id
),

wecom as (
    select
        r.customer_id,
        count(*) as wecom_contacts,
        sum(w.messages_30d) as wecom_messages_30d,
        max(w.last_message_at) as wecom_last_message_at
    from records as r
    inner join {{ ref('stg_scrm_wechat__contacts') }} as w on w.external_userid = r.source_record_id
    where r.source_system = 'scrm_wechat'
    group by r.customer_id
),

bands as (
    select customer_id, credit_band, income_band, health_risk_band, as_of as bands_as_of
    from (
        select r.customer_id, b.credit_band, b.income_band, b.health_risk_band, b.as_of,
               row_number() over (partition by r.customer_id order by b.as_of desc nulls last, b.id_no_sha256 asc nulls last) as rn
        from records as r
        inner join {{ ref('stg_external_data__risk_bands') }} as b on b.id_no_sha256 = r.source_record_id
        where r.source_system = 'external_data'
    ) as latest
    where rn = 1
)

{#- output columns in order; (expression, 0) = a count or sum that is 0 when nothing joined -#}
{%- set columns = [
    'd.customer_id',
    'd.party_type',
    'd.resolution_status',
    'd.name',
    'd.household_id',
    'as_of.as_of_date',
    ('p.policies', 0),
    ('p.policies_in_force', 0),
    ('p.policies_lapsed', 0),
    ('p.policies_surrendered', 0),
    ('p.group_covers', 0),
    ('p.annual_premium_in_force', 0),
    'p.product_lines',
    'p.channels',
    'p.first_policy_date',
    to_decimal('cast(' ~ dbt.datediff('p.first_policy_date', 'as_of.as_of_date', 'day') ~ ' as double) / 365.25', 6, 2) ~ ' as tenure_years',
    ('c.claims', 0),
    ('c.claims_paid_amount', 0),
    ('c.claims_rejected', 0),
    ('c.claims_open', 0),
    ('pay.payments_due_12m', 0),
    ('pay.payments_failed_12m', 0),
    ('pay.payments_overdue_12m', 0),
    ('t.tickets_12m', 0),
    ('t.complaints_12m', 0),
    ('t.surrender_requests_12m', 0),
    't.avg_satisfaction_12m',
    ('a.app_accounts', 0),
    ('a.app_events_30d', 0),
    'a.app_last_event_at',
    ('bk.bank_cifs', 0),
    'bk.aum_band',
    'bk.avg_balance_last_month',
    ('tc.touches_90d', 0),
    ('tc.touches_clicked_90d', 0),
    ('tc.touches_converted_90d', 0),
    ('cs.marketing_channels_opted_in', 0),
    ('cs.marketing_channels_opted_out', 0),
    ('bn.benefit_uses_12m', 0),
    ('bn.benefit_cost_12m', 0),
    ('w.wecom_contacts', 0),
    ('w.wecom_messages_30d', 0),
    'w.wecom_last_message_at',
    'bd.credit_band',
    'bd.income_band',
    'bd.health_risk_band',
    'bd.bands_as_of',
] %}

select
    {%- for c in columns %}
    {% if c is string %}{{ c }}{% else %}coalesce({{ c[0] }}, {{ c[1] }}) as {{ c[0].split('.')[-1] }}{% endif %}{{ ',' if not loop.last }}
    {%- endfor %}
from {{ ref('dim_customer') }} as d
cross join as_of
left join policies as p on p.customer_id = d.customer_id
left join claims as c on c.customer_id = d.customer_id
left join payments as pay on pay.customer_id = d.customer_id
left join tickets as t on t.customer_id = d.customer_id
left join app as a on a.customer_id = d.customer_id
left join bank as bk on bk.customer_id = d.customer_id
left join touches as tc on tc.customer_id = d.customer_id
left join consents as cs on cs.customer_id = d.customer_id
left join benefits as bn on bn.customer_id = d.customer_id
left join wecom as w on w.customer_id = d.customer_id
left join bands as bd on bd.customer_id = d.customer_id
