{{ config(materialized='table', schema='marts', tags=['tiering']) }}
{#-
  One row per customer (core.customer_360): the facts the tags and the tiers are computed from,
  as of the latest policy_admin business date, and the scoring features `f_*` (each in [0, 1])
  that the weights of seed tier_score_weights combine. Facts customer_360 already holds are
  taken from it; the rest (premium by product line and a year ago, underwriting, referrals,
  quotes, leads, household cover, surrenders) are derived here from staging through the same
  customer ids.
-#}
with c360 as (
    select * from {{ ref('customer_360') }}
),

policies as (
    select * from {{ ref('int_tiering_customer_policies') }}
),

lines as (
    select product_line, value_weight from {{ ref('tier_product_lines') }}
),

records as (
    select customer_id, source_system, source_entity, source_record_id
    from {{ ref('int_customer_records') }}
),

as_of as (
    select max(as_of_date) as as_of_date from c360
),

premium as (
    select
        p.customer_id,
        {%- for line in ['life', 'health', 'accident', 'property', 'annuity'] %}
        sum(case when p.status = 'in_force' and p.product_line = '{{ line }}' then p.premium_annual else 0 end) as premium_{{ line }},
        {%- endfor %}
        sum(case when p.status = 'in_force' then p.premium_annual * coalesce(l.value_weight, 1) else 0 end) as weighted_premium,
        -- premium in force a year ago: issued by then, and in force now or ended within the year
        sum(case when p.issue_date <= {{ dbt.dateadd('month', -12, 'a.as_of_date') }}
                  and (p.status = 'in_force' or cast(p.updated_at as date) > {{ dbt.dateadd('month', -12, 'a.as_of_date') }})
                 then p.premium_annual else 0 end) as premium_12m_ago,
        sum(case when p.status = 'in_force' and p.insured_relation = 'child' then 1 else 0 end) as child_covers,
        sum(case when p.status = 'in_force' and p.insured_relation = 'spouse' then 1 else 0 end) as spouse_covers,
        sum(case when p.status = 'in_force' and p.product_line in ('life') then 1 else 0 end) as life_covers,
        sum(case when p.status = 'in_force' and p.product_code = 'CI01' then 1 else 0 end) as critical_illness_covers,
        sum(case when p.status = 'in_force' and p.expiry_date > a.as_of_date
                  and p.expiry_date <= {{ dbt.dateadd('day', 90, 'a.as_of_date') }} then 1 else 0 end) as renewals_due_90d,
        sum(case when p.status in ('surrendered', 'lapsed')
                  and cast(p.updated_at as date) > {{ dbt.dateadd('month', -12, 'a.as_of_date') }} then 1 else 0 end) as policies_ended_12m,
        sum(case when p.status = 'in_force' and p.agent_code is not null then 1 else 0 end) as agent_served_policies,
        sum(case when p.status = 'in_force' and p.channel = 'online' then 1 else 0 end) as online_policies,
        max(p.issue_date) as last_issue_date
    from policies as p
    cross join as_of as a
    left join lines as l on l.product_line = p.product_line
    group by p.customer_id
),

-- the product line carrying most of the in-force premium (ties: alphabetical), whose rules apply
main_line as (
    select customer_id, product_line, channel, agent_code
    from (
        select customer_id, product_line,
               max(channel) as channel, max(agent_code) as agent_code,
               row_number() over (partition by customer_id
                                  order by sum(premium_annual) desc nulls last, product_line asc nulls last) as rn
        from policies
        where status = 'in_force'
        group by customer_id, product_line
    ) as ranked
    where rn = 1
),

payments as (
    select p.customer_id, max(cast(b.paid_at as date)) as last_paid_date
    from {{ ref('stg_billing__payments') }} as b
    inner join policies as p on p.policy_no = b.policy_no
    where b.status = 'paid'
    group by p.customer_id
),

claims as (
    select
        r.customer_id,
        sum(case when cast(c.reported_at as date) > {{ dbt.dateadd('month', -12, 'a.as_of_date') }} then 1 else 0 end) as claims_12m,
        sum(case when c.fraud_suspected then 1 else 0 end) as fraud_suspected_claims,
        max(c.claimed_amount) as max_claimed_amount
    from {{ ref('stg_claims__claims') }} as c
    inner join records as r on r.source_system = 'claims' and r.source_record_id = c.claim_id
    cross join as_of as a
    group by r.customer_id
),

underwriting as (
    select customer_id, is_smoker, occupation_class, decision
    from (
        select r.customer_id, u.is_smoker, u.occupation_class, u.decision,
               row_number() over (partition by r.customer_id
                                  order by u.decided_at desc nulls last, u.uw_case_id desc nulls last) as rn
        from {{ ref('stg_underwriting__uw_cases') }} as u
        inner join records as r on r.source_system = 'underwriting' and r.source_record_id = u.uw_case_id
    ) as latest
    where rn = 1
),

leads as (
    select
        r.customer_id,
        sum(case when l.stage in ('new', 'contacted', 'proposal') then 1 else 0 end) as open_leads,
        sum(case when l.stage = 'won' and l.source_channel = 'referral' then 1 else 0 end) as won_by_referral
    from {{ ref('stg_agent_crm__leads') }} as l
    inner join records as r on r.source_system = 'agent_crm' and r.source_record_id = l.lead_id
    group by r.customer_id
),

households as (
    select h.customer_id, d.member_count
    from {{ ref('int_customer_households') }} as h
    inner join {{ ref('dim_household') }} as d on d.household_id = h.household_id
),

-- referrals: household members won by an agent through a referral after this customer's first policy
referrals as (
    select h.customer_id, sum(o.won_by_referral) as referrals_won
    from {{ ref('int_customer_households') }} as h
    inner join {{ ref('int_customer_households') }} as m
        on m.household_id = h.household_id and m.customer_id <> h.customer_id
    inner join leads as o on o.customer_id = m.customer_id
    inner join c360 as c on c.customer_id = h.customer_id
    where c.policies > 0 and o.won_by_referral > 0
    group by h.customer_id
),

app as (
    select
        r.customer_id,
        sum(case when e.event_name in ('quote_start', 'quote_submit') then 1 else 0 end) as quotes_30d,
        sum(case when e.event_name in ('benefit_click', 'checkup_view') then 1 else 0 end) as benefit_views_30d
    from records as r
    cross join as_of as a
    inner join {{ ref('stg_app_events__events') }} as e on e.user_id = r.source_record_id
    where r.source_system = 'app_events'
      and e.event_date > {{ dbt.dateadd('day', -30, 'a.as_of_date') }}
    group by r.customer_id
),

privacy as (
    select r.customer_id, count(*) as privacy_requests
    from records as r
    where r.source_system = 'call_center' and r.source_entity = 'privacy_requests'
    group by r.customer_id
),

facts as (
    select
        c.customer_id,
        c.party_type,
        c.as_of_date,
        d.birth_date,
        d.gender,
        d.has_valid_id,
        d.mobile is not null as has_mobile,
        cast(floor({{ dbt.datediff('d.birth_date', 'c.as_of_date', 'day') }} / 365.25) as integer) as age,
        coalesce(h.member_count, 1) as household_size,
        c.policies, c.policies_in_force, c.policies_lapsed, c.policies_surrendered,
        c.annual_premium_in_force, c.product_lines, c.channels, c.tenure_years,
        c.claims, c.claims_paid_amount, c.claims_open,
        c.payments_due_12m, c.payments_failed_12m, c.payments_overdue_12m,
        c.tickets_12m, c.complaints_12m, c.surrender_requests_12m, c.avg_satisfaction_12m,
        c.app_accounts, c.app_events_30d, c.app_last_event_at,
        c.bank_cifs, c.aum_band, c.touches_90d, c.touches_clicked_90d,
        c.marketing_channels_opted_in, c.marketing_channels_opted_out,
        c.benefit_uses_12m, c.benefit_cost_12m,
        c.wecom_contacts, c.wecom_messages_30d,
        c.credit_band, c.income_band, c.health_risk_band,
        {%- for line in ['life', 'health', 'accident', 'property', 'annuity'] %}
        coalesce(pr.premium_{{ line }}, 0) as premium_{{ line }},
        {%- endfor %}
        coalesce(pr.weighted_premium, 0) as weighted_premium,
        coalesce(pr.premium_12m_ago, 0) as premium_12m_ago,
        coalesce(pr.child_covers, 0) as child_covers,
        coalesce(pr.spouse_covers, 0) as spouse_covers,
        coalesce(pr.life_covers, 0) as life_covers,
        coalesce(pr.critical_illness_covers, 0) as critical_illness_covers,
        coalesce(pr.renewals_due_90d, 0) as renewals_due_90d,
        coalesce(pr.policies_ended_12m, 0) as policies_ended_12m,
        coalesce(pr.agent_served_policies, 0) as agent_served_policies,
        coalesce(pr.online_policies, 0) as online_policies,
        ml.product_line as main_product_line,
        ml.channel as main_channel,
        ml.agent_code as account_manager,
        {{ dbt.datediff('coalesce(pay.last_paid_date, pr.last_issue_date)', 'c.as_of_date', 'day') }} as days_since_last_purchase,
        coalesce(cl.claims_12m, 0) as claims_12m,
        coalesce(cl.fraud_suspected_claims, 0) as fraud_suspected_claims,
        cl.max_claimed_amount,
        uw.is_smoker,
        uw.occupation_class,
        uw.decision as uw_decision,
        coalesce(ld.open_leads, 0) as open_leads,
        coalesce(ld.won_by_referral, 0) as acquired_by_referral,
        coalesce(rf.referrals_won, 0) as referrals_won,
        coalesce(ap.quotes_30d, 0) as quotes_30d,
        coalesce(ap.benefit_views_30d, 0) as benefit_views_30d,
        coalesce(pv.privacy_requests, 0) as privacy_requests,
        (case when c.app_events_30d > 0 then 1 else 0 end)
          + (case when c.wecom_messages_30d > 0 then 1 else 0 end)
          + (case when c.tickets_12m > 0 then 1 else 0 end)
          + (case when c.touches_clicked_90d > 0 then 1 else 0 end)
          + (case when c.bank_cifs > 0 then 1 else 0 end) as interaction_channels
    from c360 as c
    inner join {{ ref('dim_customer') }} as d on d.customer_id = c.customer_id
    left join households as h on h.customer_id = c.customer_id
    left join premium as pr on pr.customer_id = c.customer_id
    left join main_line as ml on ml.customer_id = c.customer_id
    left join payments as pay on pay.customer_id = c.customer_id
    left join claims as cl on cl.customer_id = c.customer_id
    left join underwriting as uw on uw.customer_id = c.customer_id
    left join leads as ld on ld.customer_id = c.customer_id
    left join referrals as rf on rf.customer_id = c.customer_id
    left join app as ap on ap.customer_id = c.customer_id
    left join privacy as pv on pv.customer_id = c.customer_id
)

select
    cast(f.customer_id as {{ dbt.type_string() }}) as customer_id,
    cast(f.party_type as {{ dbt.type_string() }}) as party_type,
    cast(f.as_of_date as date) as as_of_date,
    cast(f.birth_date as date) as birth_date,
    cast(f.gender as {{ dbt.type_string() }}) as gender,
    cast(f.has_valid_id as boolean) as has_valid_id,
    cast(f.has_mobile as boolean) as has_mobile,
    cast(f.age as integer) as age,
    cast(f.household_size as bigint) as household_size,
    cast(f.policies as bigint) as policies,
    cast(f.policies_in_force as bigint) as policies_in_force,
    cast(f.policies_lapsed as bigint) as policies_lapsed,
    cast(f.policies_surrendered as bigint) as policies_surrendered,
    {{ to_decimal('f.annual_premium_in_force', 18, 2) }} as annual_premium_in_force,
    cast(f.product_lines as {{ dbt.type_string() }}) as product_lines,
    cast(f.channels as {{ dbt.type_string() }}) as channels,
    {{ to_decimal('f.tenure_years', 6, 2) }} as tenure_years,
    cast(f.claims as bigint) as claims,
    {{ to_decimal('f.claims_paid_amount', 18, 2) }} as claims_paid_amount,
    cast(f.claims_open as bigint) as claims_open,
    cast(f.payments_due_12m as bigint) as payments_due_12m,
    cast(f.payments_failed_12m as bigint) as payments_failed_12m,
    cast(f.payments_overdue_12m as bigint) as payments_overdue_12m,
    cast(f.tickets_12m as bigint) as tickets_12m,
    cast(f.complaints_12m as bigint) as complaints_12m,
    cast(f.surrender_requests_12m as bigint) as surrender_requests_12m,
    cast(f.avg_satisfaction_12m as double) as avg_satisfaction_12m,
    cast(f.app_accounts as bigint) as app_accounts,
    cast(f.app_events_30d as bigint) as app_events_30d,
    cast(f.app_last_event_at as timestamp) as app_last_event_at,
    cast(f.bank_cifs as bigint) as bank_cifs,
    cast(f.aum_band as {{ dbt.type_string() }}) as aum_band,
    cast(f.touches_90d as bigint) as touches_90d,
    cast(f.touches_clicked_90d as bigint) as touches_clicked_90d,
    cast(f.marketing_channels_opted_in as bigint) as marketing_channels_opted_in,
    cast(f.marketing_channels_opted_out as bigint) as marketing_channels_opted_out,
    cast(f.benefit_uses_12m as bigint) as benefit_uses_12m,
    {{ to_decimal('f.benefit_cost_12m', 18, 2) }} as benefit_cost_12m,
    cast(f.wecom_contacts as bigint) as wecom_contacts,
    cast(f.wecom_messages_30d as bigint) as wecom_messages_30d,
    cast(f.credit_band as {{ dbt.type_string() }}) as credit_band,
    cast(f.income_band as integer) as income_band,
    cast(f.health_risk_band as {{ dbt.type_string() }}) as health_risk_band,
    {{ to_decimal('f.premium_life', 18, 2) }} as premium_life,
    {{ to_decimal('f.premium_health', 18, 2) }} as premium_health,
    {{ to_decimal('f.premium_accident', 18, 2) }} as premium_accident,
    {{ to_decimal('f.premium_property', 18, 2) }} as premium_property,
    {{ to_decimal('f.premium_annuity', 18, 2) }} as premium_annuity,
    cast(f.weighted_premium as double) as weighted_premium,
    {{ to_decimal('f.premium_12m_ago', 18, 2) }} as premium_12m_ago,
    cast(f.child_covers as bigint) as child_covers,
    cast(f.spouse_covers as bigint) as spouse_covers,
    cast(f.life_covers as bigint) as life_covers,
    cast(f.critical_illness_covers as bigint) as critical_illness_covers,
    cast(f.renewals_due_90d as bigint) as renewals_due_90d,
    cast(f.policies_ended_12m as bigint) as policies_ended_12m,
    cast(f.agent_served_policies as bigint) as agent_served_policies,
    cast(f.online_policies as bigint) as online_policies,
    cast(f.main_product_line as {{ dbt.type_string() }}) as main_product_line,
    cast(f.main_channel as {{ dbt.type_string() }}) as main_channel,
    cast(f.account_manager as {{ dbt.type_string() }}) as account_manager,
    cast(f.days_since_last_purchase as bigint) as days_since_last_purchase,
    cast(f.claims_12m as bigint) as claims_12m,
    cast(f.fraud_suspected_claims as bigint) as fraud_suspected_claims,
    {{ to_decimal('f.max_claimed_amount', 18, 2) }} as max_claimed_amount,
    cast(f.is_smoker as boolean) as is_smoker,
    cast(f.occupation_class as integer) as occupation_class,
    cast(f.uw_decision as {{ dbt.type_string() }}) as uw_decision,
    cast(f.open_leads as bigint) as open_leads,
    cast(f.acquired_by_referral as bigint) as acquired_by_referral,
    cast(f.referrals_won as bigint) as referrals_won,
    cast(f.quotes_30d as bigint) as quotes_30d,
    cast(f.benefit_views_30d as bigint) as benefit_views_30d,
    cast(f.privacy_requests as bigint) as privacy_requests,
    cast(f.interaction_channels as integer) as interaction_channels,
    -- scoring features in [0, 1]
    {%- set cap = 'least(greatest(%s, 0), 1)' %}
    cast({{ cap | format('f.claims / cast(3 as double)') }} as double) as f_claim_frequency,
    cast({{ cap | format('case when f.annual_premium_in_force > 0 then cast(f.claims_paid_amount as double) / (5 * f.annual_premium_in_force) when f.claims_paid_amount > 0 then 1 else 0 end') }} as double) as f_claim_severity,
    cast(case when f.fraud_suspected_claims > 0 then 1 else 0 end as double) as f_fraud_suspected,
    cast(case when f.occupation_class >= 4 then 1 else 0 end as double) as f_occupation_hazard,
    cast(case when f.is_smoker then 1 else 0 end as double) as f_smoker,
    cast(case when f.health_risk_band = 'high' then 1 when f.health_risk_band = 'mid' then 0.5 else 0 end as double) as f_health_band_high,
    cast(case when f.credit_band in ('D', 'E') then 1 else 0 end as double) as f_credit_weak,
    cast({{ cap | format('(f.payments_failed_12m + f.payments_overdue_12m) / cast(3 as double)') }} as double) as f_payment_failures,
    cast({{ cap | format('coalesce(f.tenure_years, 0) / cast(10 as double)') }} as double) as f_tenure,
    cast({{ cap | format('f.benefit_uses_12m / cast(2 as double)') }} as double) as f_addon_use,
    cast({{ cap | format('f.referrals_won') }} as double) as f_referrals,
    cast({{ cap | format('(f.interaction_channels - 1) / cast(2 as double)') }} as double) as f_multi_channel,
    cast(case when f.policies > 0 and f.policies_lapsed + f.policies_surrendered = 0 then 1 else 0 end as double) as f_no_lapse,
    cast(case when f.income_band >= 4 then 1 when f.income_band = 3 then 0.5 else 0 end as double) as f_income_high,
    cast(case when f.aum_band in ('C', 'D') then 1 when f.aum_band = 'B' then 0.5 else 0 end as double) as f_aum_high,
    cast(case when f.age between 25 and 45 then 1 else 0 end as double) as f_age_prime,
    cast({{ cap | format('f.quotes_30d / cast(2 as double)') }} as double) as f_quote_activity,
    cast(case when f.open_leads > 0 then 1 else 0 end as double) as f_open_lead,
    cast(case when f.child_covers > 0 and f.age < 45 then 1 else 0 end as double) as f_young_family,
    cast({{ cap | format('1 - coalesce(f.days_since_last_purchase, 365) / cast(365 as double)') }} as double) as f_recency,
    cast({{ cap | format('f.policies_in_force / cast(4 as double)') }} as double) as f_frequency,
    cast({{ cap | format('(f.benefit_uses_12m + f.benefit_views_30d) / cast(4 as double)') }} as double) as f_addon_depth
from facts as f
