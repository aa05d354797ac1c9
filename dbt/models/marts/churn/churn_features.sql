{{ config(materialized='table', schema='marts', tags=['churn']) }}
{#-
  Point-in-time churn features: one row per individual policy in force and as-of date
  (int_churn_as_of_dates), computed only from what the platform knew as of that date
  (macro churn_known_by: known before the next day's daily build; see macros/churn/point_in_time.sql).
  The policy is in force as of D when it was issued by D, known by then, and its end was not
  known by then. Windows and half-lives: scoring/churn.yaml (generated macro churn_config()).
  Features whose window the delivered history does not cover are null (app use: the initial
  load carries 60 days; tickets 12 months). No label here: see churn_labels.
-#}
{%- set cfg = churn_config() -%}
{%- set w = cfg['windows_days'] -%}
{%- set hl = cfg['half_life_days'] -%}
{%- set late = cfg['late_payment_days'] -%}
{%- set decay_window = cfg['decay_window_days'] -%}
with as_of_dates as (
    select as_of, {{ churn_cutoff('as_of') }} as cutoff from {{ ref('int_churn_as_of_dates') }}
),

policies as (
    select * from {{ ref('int_churn_policies') }}
),

population as (
    select p.policy_no, p.customer_id, a.as_of, a.cutoff
    from policies as p
    inner join as_of_dates as a
        on p.issue_date <= a.as_of
       and p.known_from < a.cutoff
       and not (p.end_known_at is not null and p.end_known_at < a.cutoff)
),

customer_dates as (
    select distinct customer_id, as_of, cutoff from population
),

-- ---------------------------------------------------------------------------------- payments
payments as (
    select
        pop.policy_no, pop.as_of,
        i.due_date, i.amount,
        case when i.paid_known_at < pop.cutoff and i.paid_at is not null then i.paid_at end as paid_at_known,
        {{ churn_days('i.due_date', 'pop.as_of') }} as age_days
    from population as pop
    inner join {{ ref('int_churn_payments') }} as i
        on i.policy_no = pop.policy_no
       and i.due_date <= pop.as_of
       and i.due_known_at < pop.cutoff
),

payment_flags as (
    select
        policy_no, as_of, due_date, amount, age_days,
        case when age_days >= {{ late }}
                  and not (paid_at_known is not null
                           and cast(paid_at_known as date) <= {{ dbt.dateadd('day', late, 'due_date') }})
             then 1 else 0 end as missed,
        case when age_days >= {{ late }} and paid_at_known is null then 1 else 0 end as unpaid,
        case when paid_at_known is null then 1 else 0 end as not_paid_yet
    from payments
),

payment_features as (
    select
        policy_no, as_of,
        sum(unpaid) as unpaid_instalments,
        max(case when unpaid = 1 then age_days end) as max_days_past_due,
        sum(case when missed = 1 and age_days < {{ w['medium'] }} then 1 else 0 end) as missed_payments_90d,
        sum(case when missed = 1 and age_days < {{ w['long'] }} then 1 else 0 end) as missed_payments_365d,
        sum(case when missed = 1 and age_days < {{ decay_window }}
                 then {{ churn_decay('age_days', hl['payments']) }} else 0 end) as missed_payments_decayed,
        min(case when missed = 1 then age_days end) as days_since_missed_payment,
        min(case when not_paid_yet = 1 then age_days end) as days_since_unpaid_due
    from payment_flags
    group by policy_no, as_of
),

instalment_ranked as (
    select policy_no, as_of, amount, age_days,
           row_number() over (partition by policy_no, as_of order by due_date desc nulls last) as rn_latest
    from payment_flags
),

premium_now as (
    select policy_no, as_of, amount from instalment_ranked where rn_latest = 1
),

premium_year_ago as (
    select policy_no, as_of, amount
    from (
        select policy_no, as_of, amount,
               row_number() over (partition by policy_no, as_of order by age_days asc nulls last) as rn
        from instalment_ranked
        where age_days >= 330
    ) as r
    where rn = 1
),

-- the latest policy version known as of the date (its premium, against the billed one)
policy_versions as (
    select policy_no, premium_annual, updated_at, _known_at
    from ({{ churn_known_rows('policy_admin__policies', 'updated_at') }}) as v
),

known_premium as (
    select policy_no, as_of, premium_annual
    from (
        select pop.policy_no, pop.as_of, v.premium_annual,
               row_number() over (partition by pop.policy_no, pop.as_of order by v.updated_at desc nulls last) as rn
        from population as pop
        inner join policy_versions as v on v.policy_no = pop.policy_no and v._known_at < pop.cutoff
    ) as r
    where rn = 1
),

-- ---------------------------------------------------------------------------------- events
events as (
    select * from {{ ref('int_churn_customer_events') }}
),

coverage as (
    select
        min(case when kind = 'app_use' then event_date end) as app_from,
        min(case when kind in ('complaint', 'surrender_request', 'service_ticket') then event_date end) as tickets_from
    from events
),

customer_events as (
    select cd.customer_id, cd.as_of, e.kind, e.events, e.policy_no,
           {{ churn_days('e.event_date', 'cd.as_of') }} as age_days
    from customer_dates as cd
    inner join events as e
        on e.customer_id = cd.customer_id
       and e.known_at < cd.cutoff
       and e.event_date <= cd.as_of
       and e.event_date > {{ dbt.dateadd('day', -decay_window, 'cd.as_of') }}
),

event_features as (
    select
        customer_id, as_of,
        sum(case when kind = 'surrender_request' and age_days < {{ w['medium'] }} then 1 else 0 end) as customer_surrender_requests_90d,
        sum(case when kind = 'complaint' and age_days < {{ w['short'] }} then 1 else 0 end) as complaints_30d,
        sum(case when kind = 'complaint' and age_days < {{ w['medium'] }} then 1 else 0 end) as complaints_90d,
        sum(case when kind = 'complaint' then {{ churn_decay('age_days', hl['tickets']) }} else 0 end) as complaints_decayed,
        min(case when kind = 'complaint' then age_days end) as days_since_complaint,
        sum(case when kind = 'service_ticket' and age_days < {{ w['medium'] }} then 1 else 0 end) as service_tickets_90d,
        sum(case when kind = 'claim_rejected' and age_days < {{ w['long'] }} then 1 else 0 end) as claims_rejected_365d,
        min(case when kind = 'claim_rejected' then age_days end) as days_since_claim_rejected,
        sum(case when kind = 'claim_rejected' then {{ churn_decay('age_days', hl['claims']) }} else 0 end) as claims_rejected_decayed,
        sum(case when kind = 'claim_paid' and age_days < {{ w['long'] }} then 1 else 0 end) as claims_paid_365d,
        sum(case when kind = 'claim_reported' then 1 when kind = 'claim_closed' then -1 else 0 end) as claims_open_recent,
        sum(case when kind = 'app_use' and age_days < {{ w['short'] }} then events else 0 end) as app_events_30d,
        sum(case when kind = 'app_use' and age_days >= {{ w['short'] }} and age_days < 2 * {{ w['short'] }} then events else 0 end) as app_events_prev_30d,
        min(case when kind = 'app_use' then age_days end) as days_since_app_use,
        sum(case when kind = 'touch_opened' and age_days < {{ w['medium'] }} then 1 else 0 end) as touches_opened_90d,
        sum(case when kind = 'opt_out' and age_days < {{ w['long'] }} then 1 else 0 end) as marketing_opt_outs_365d
    from customer_events
    group by customer_id, as_of
),

surrender_requests as (
    select ce.customer_id, ce.as_of, ce.policy_no, min(ce.age_days) as surrender_requested_days_ago
    from customer_events as ce
    where ce.kind = 'surrender_request' and ce.policy_no is not null and ce.age_days < 120
    group by ce.customer_id, ce.as_of, ce.policy_no
),

app_users as (
    select distinct customer_id from {{ source('identity', 'customer_xref') }}
    where source_system = 'app_events' and source_entity = 'users'
),

-- ---------------------------------------------------------------------------------- WeCom
wecom_versions as (
    select x.customer_id, v.external_userid, v.op, v.messages_30d, v.last_message_at, v.updated_at, v._known_at
    from ({{ churn_known_rows('scrm_wechat__contacts', 'updated_at') }}) as v
    inner join {{ source('identity', 'customer_xref') }} as x
        on x.source_system = 'scrm_wechat' and x.source_record_id = v.external_userid
),

wecom_latest as (
    select customer_id, as_of, op, messages_30d, last_message_at
    from (
        select cd.customer_id, cd.as_of, v.op, v.messages_30d, v.last_message_at,
               row_number() over (partition by cd.customer_id, cd.as_of, v.external_userid
                                  order by v.updated_at desc nulls last) as rn
        from customer_dates as cd
        inner join wecom_versions as v on v.customer_id = cd.customer_id and v._known_at < cd.cutoff
    ) as r
    where rn = 1
),

wecom_features as (
    select
        customer_id, as_of,
        max(case when op <> 'D' then 1 else 0 end) as wecom_contact,
        sum(case when op <> 'D' then messages_30d else 0 end) as wecom_messages_30d,
        min({{ churn_days('cast(last_message_at as date)', 'as_of') }}) as days_since_agent_message
    from wecom_latest
    group by customer_id, as_of
),

-- ---------------------------------------------------------------------------------- bank and credit
balance_rows as (
    select x.customer_id, b.month, b.avg_balance, b.inflow, b.outflow, b._known_at
    from ({{ churn_known_rows('bank_core__monthly_balances',
                              dbt.dateadd('day', 1, dbt.dateadd('month', 1, 'month'))) }}) as b
    inner join {{ source('identity', 'customer_xref') }} as x
        on x.source_system = 'bank_core' and x.source_record_id = b.cif_no
),

balances_ranked as (
    select cd.customer_id, cd.as_of, b.month, sum(b.avg_balance) as balance, sum(b.inflow) as inflow,
           sum(b.outflow) as outflow,
           dense_rank() over (partition by cd.customer_id, cd.as_of order by b.month desc nulls last) as k
    from customer_dates as cd
    inner join balance_rows as b
        on b.customer_id = cd.customer_id and b._known_at < cd.cutoff
       and b.month > {{ dbt.dateadd('month', -8, 'cd.as_of') }}
    group by cd.customer_id, cd.as_of, b.month
),

balance_features as (
    select
        customer_id, as_of,
        case when sum(case when k between 2 and 4 then 1 else 0 end) = 3
                  and sum(case when k between 2 and 4 then balance else 0 end) > 0
             then max(case when k = 1 then balance end)
                  / (sum(case when k between 2 and 4 then balance else 0 end) / 3.0) - 1 end as balance_trend_3m,
        case when sum(case when k <= 3 then inflow else 0 end) > 0
             then sum(case when k <= 3 then outflow - inflow else 0 end) / sum(case when k <= 3 then inflow else 0 end)
        end as net_outflow_3m
    from balances_ranked
    group by customer_id, as_of
),

band_rows as (
    select x.customer_id, r.as_of as band_as_of,
           case r.credit_band when 'A' then 1 when 'B' then 2 when 'C' then 3 when 'D' then 4 when 'E' then 5 end as band,
           r._known_at
    from ({{ churn_known_rows('external_data__risk_bands', dbt.dateadd('day', 4, 'as_of')) }}) as r
    inner join {{ source('identity', 'customer_xref') }} as x
        on x.source_system = 'external_data' and x.source_record_id = r.id_no_sha256
),

bands_ranked as (
    select cd.customer_id, cd.as_of, b.band_as_of, max(b.band) as band,
           dense_rank() over (partition by cd.customer_id, cd.as_of order by b.band_as_of desc nulls last) as k
    from customer_dates as cd
    inner join band_rows as b on b.customer_id = cd.customer_id and b._known_at < cd.cutoff
       and b.band_as_of > {{ dbt.dateadd('month', -6, 'cd.as_of') }}
    group by cd.customer_id, cd.as_of, b.band_as_of
),

band_features as (
    select customer_id, as_of,
           max(case when k = 1 then band end) as credit_band,
           max(case when k = 1 then band end) - max(case when k = 3 then band end) as credit_band_change
    from bands_ranked
    group by customer_id, as_of
),

-- ---------------------------------------------------------------------------------- the customer
customer_policies as (
    select cd.customer_id, cd.as_of,
           sum(case when p.issue_date <= cd.as_of and p.known_from < cd.cutoff
                     and not (p.end_known_at is not null and p.end_known_at < cd.cutoff) then 1 else 0 end) as policies_in_force,
           sum(case when p.churn_date is not null and p.end_known_at < cd.cutoff
                     and p.churn_date > {{ dbt.dateadd('day', -w['long'], 'cd.as_of') }} then 1 else 0 end) as policies_churned_365d,
           min(case when p.known_from < cd.cutoff then p.issue_date end) as first_issue_date
    from customer_dates as cd
    inner join policies as p on p.customer_id = cd.customer_id
    group by cd.customer_id, cd.as_of
),

tier_history as (
    select customer_id, service_tier, cast(as_of_date as date) as tier_from
    from {{ ref('customer_tier_history') }}
),

tiers as (
    select customer_id, as_of, service_tier
    from (
        select cd.customer_id, cd.as_of, t.service_tier,
               row_number() over (partition by cd.customer_id, cd.as_of order by t.tier_from desc nulls last) as rn
        from customer_dates as cd
        inner join tier_history as t on t.customer_id = cd.customer_id and t.tier_from <= cd.as_of
    ) as r
    where rn = 1
),

anniversaries as (
    select policy_no, as_of, ann_this_year, freq_months,
           case when freq_months > 0
                then {{ dbt.dateadd('month', '(months_in / freq_months) * freq_months', 'effective_date') }} end as due_candidate
    from (
        select pop.policy_no, pop.as_of, p.effective_date,
               {{ dbt.dateadd('year', dbt.datediff('p.effective_date', 'pop.as_of', 'year'), 'p.effective_date') }} as ann_this_year,
               {{ dbt.datediff('p.effective_date', 'pop.as_of', 'month') }} as months_in,
               case p.payment_freq when 'monthly' then 1 when 'quarterly' then 3 when 'semiannual' then 6
                                   when 'annual' then 12 else 0 end as freq_months
        from population as pop
        inner join policies as p on p.policy_no = pop.policy_no
    ) as a
)

select
    cast(pop.policy_no as {{ dbt.type_string() }}) as policy_no,
    cast(pop.customer_id as {{ dbt.type_string() }}) as customer_id,
    cast(pop.as_of as date) as as_of,
    cast(case when p.renewal_type = 'one_year' then 1 else 0 end as double) as renewable,
    cast(case when p.cash_value then 1 else 0 end as double) as cash_value,
    {%- for line in ['health', 'accident', 'property', 'life', 'annuity'] %}
    cast(case when p.product_line = '{{ line }}' then 1 else 0 end as double) as line_{{ line }},
    {%- endfor %}
    cast(case when p.channel = 'online' then 1 else 0 end as double) as channel_online,
    cast(case when p.channel = 'bancassurance' then 1 else 0 end as double) as channel_bancassurance,
    cast(case when p.payment_freq = 'annual' then 1 else 0 end as double) as payment_annual,
    cast(case when p.payment_freq = 'monthly' then 1 else 0 end as double) as payment_monthly,
    cast(case when p.channel in ('agent', 'telesales') and p.agent_code is null then 1 else 0 end as double) as is_orphan,
    cast({{ churn_days('p.effective_date', 'pop.as_of') }} as double) as tenure_days,
    cast({{ churn_days('pop.as_of', "case when an.ann_this_year > pop.as_of then an.ann_this_year else " ~ dbt.dateadd('year', 1, 'an.ann_this_year') ~ " end") }} as double) as days_to_anniversary,
    cast(case when p.renewal_type = 'one_year'
                   and {{ churn_days('pop.as_of', "case when an.ann_this_year > pop.as_of then an.ann_this_year else " ~ dbt.dateadd('year', 1, 'an.ann_this_year') ~ " end") }} <= {{ cfg['horizon_days'] }}
              then 1 else 0 end as double) as renewal_in_horizon,
    cast(case when an.freq_months > 0 then {{ churn_days('pop.as_of', "case when an.due_candidate > pop.as_of then an.due_candidate else " ~ dbt.dateadd('month', 'an.freq_months', 'an.due_candidate') ~ " end") }} end as double) as days_to_next_due,
    cast(case when p.renewal_type <> 'one_year' and p.expiry_date > pop.as_of
              then {{ churn_days('pop.as_of', 'p.expiry_date') }} end as double) as days_to_expiry,
    cast(pn.amount * case p.payment_freq when 'monthly' then 12 when 'quarterly' then 4 when 'semiannual' then 2 else 1 end
         as double) as annual_premium,
    cast(case when py.amount > 0 then pn.amount / py.amount - 1 end as double) as premium_change_12m,
    cast(case when pn.amount > 0 and kp.premium_annual is not null
              then kp.premium_annual / (pn.amount * case p.payment_freq when 'monthly' then 12 when 'quarterly' then 4
                                                                     when 'semiannual' then 2 else 1 end) - 1
              else 0 end as double) as announced_premium_change,
    cast(coalesce(pf.unpaid_instalments, 0) as double) as unpaid_instalments,
    cast(pf.max_days_past_due as double) as max_days_past_due,
    cast(coalesce(pf.missed_payments_90d, 0) as double) as missed_payments_90d,
    cast(coalesce(pf.missed_payments_365d, 0) as double) as missed_payments_365d,
    cast(coalesce(pf.missed_payments_decayed, 0) as double) as missed_payments_decayed,
    cast(pf.days_since_missed_payment as double) as days_since_missed_payment,
    cast(pf.days_since_unpaid_due as double) as days_since_unpaid_due,
    cast(sr.surrender_requested_days_ago as double) as surrender_requested_days_ago,
    {%- set ticket_cols = ['customer_surrender_requests_90d', 'complaints_30d', 'complaints_90d', 'complaints_decayed', 'service_tickets_90d'] %}
    {%- for c in ticket_cols %}
    cast(case when {{ dbt.dateadd('day', -w['medium'], 'pop.as_of') }} >= cov.tickets_from then coalesce(ef.{{ c }}, 0) end as double) as {{ c }},
    {%- endfor %}
    cast(ef.days_since_complaint as double) as days_since_complaint,
    cast(coalesce(ef.claims_rejected_365d, 0) as double) as claims_rejected_365d,
    cast(ef.days_since_claim_rejected as double) as days_since_claim_rejected,
    cast(coalesce(ef.claims_rejected_decayed, 0) as double) as claims_rejected_decayed,
    cast(coalesce(ef.claims_paid_365d, 0) as double) as claims_paid_365d,
    cast(greatest(coalesce(ef.claims_open_recent, 0), 0) as double) as claims_open,
    cast(case when au.customer_id is not null and {{ dbt.dateadd('day', -2 * w['short'], 'pop.as_of') }} >= cov.app_from
              then coalesce(ef.app_events_30d, 0) end as double) as app_events_30d,
    cast(case when au.customer_id is not null and {{ dbt.dateadd('day', -2 * w['short'], 'pop.as_of') }} >= cov.app_from
              then (coalesce(ef.app_events_30d, 0) - coalesce(ef.app_events_prev_30d, 0))
                   / (coalesce(ef.app_events_prev_30d, 0) + 1.0) end as double) as app_trend,
    cast(case when au.customer_id is not null and pop.as_of >= cov.app_from then ef.days_since_app_use end as double) as days_since_app_use,
    cast(coalesce(wf.wecom_contact, 0) as double) as wecom_contact,
    cast(wf.wecom_messages_30d as double) as wecom_messages_30d,
    cast(wf.days_since_agent_message as double) as days_since_agent_message,
    cast(coalesce(ef.touches_opened_90d, 0) as double) as touches_opened_90d,
    cast(coalesce(ef.marketing_opt_outs_365d, 0) as double) as marketing_opt_outs_365d,
    cast(bf.balance_trend_3m as double) as balance_trend_3m,
    cast(bf.net_outflow_3m as double) as net_outflow_3m,
    cast(bd.credit_band as double) as credit_band,
    cast(bd.credit_band_change as double) as credit_band_change,
    cast(coalesce(cp.policies_in_force, 0) as double) as policies_in_force,
    cast(coalesce(cp.policies_churned_365d, 0) as double) as policies_churned_365d,
    cast({{ churn_days('cp.first_issue_date', 'pop.as_of') }} as double) as customer_tenure_days,
    cast(case t.service_tier when 'diamond' then 1 when 'gold' then 2 when 'standard' then 3 when 'automated' then 4 end
         as double) as service_tier_rank
from population as pop
inner join policies as p on p.policy_no = pop.policy_no
inner join anniversaries as an on an.policy_no = pop.policy_no and an.as_of = pop.as_of
cross join coverage as cov
left join payment_features as pf on pf.policy_no = pop.policy_no and pf.as_of = pop.as_of
left join premium_now as pn on pn.policy_no = pop.policy_no and pn.as_of = pop.as_of
left join premium_year_ago as py on py.policy_no = pop.policy_no and py.as_of = pop.as_of
left join known_premium as kp on kp.policy_no = pop.policy_no and kp.as_of = pop.as_of
left join event_features as ef on ef.customer_id = pop.customer_id and ef.as_of = pop.as_of
left join surrender_requests as sr on sr.customer_id = pop.customer_id and sr.as_of = pop.as_of and sr.policy_no = pop.policy_no
left join app_users as au on au.customer_id = pop.customer_id
left join wecom_features as wf on wf.customer_id = pop.customer_id and wf.as_of = pop.as_of
left join balance_features as bf on bf.customer_id = pop.customer_id and bf.as_of = pop.as_of
left join band_features as bd on bd.customer_id = pop.customer_id and bd.as_of = pop.as_of
left join customer_policies as cp on cp.customer_id = pop.customer_id and cp.as_of = pop.as_of
left join tiers as t on t.customer_id = pop.customer_id and t.as_of = pop.as_of
