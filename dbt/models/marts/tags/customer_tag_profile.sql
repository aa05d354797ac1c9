{{ config(materialized='table', schema='marts', tags=['tags']) }}
{#-
  The tag profile: one row per customer, one column per tag of the tag dictionary (seed
  tag_dictionary; a test keeps the two in step), every tag computed from the data of the day
  (int_tiering_customer_features, customer_tier). Tags are labels (varchar); null = not
  applicable / unknown. Holds every sensitivity level: restricted audience (schema marts);
  analysts read analyst.customer_tag_profile, which leaves sensitive and restricted tags out.
-#}
{%- set yn = "case when %s then 'Y' else 'N' end" -%}
with f as (
    select * from {{ ref('int_tiering_customer_features') }}
),

t as (
    select * from {{ ref('customer_tier') }}
)

select
    cast(f.customer_id as {{ dbt.type_string() }}) as customer_id,
    cast(f.as_of_date as date) as as_of,
    -- demographics
    cast(case when f.age is null then null when f.age < 30 then '18-29' when f.age < 40 then '30-39'
              when f.age < 50 then '40-49' when f.age < 60 then '50-59' else '60+' end as {{ dbt.type_string() }}) as dem_age_band,
    cast(f.gender as {{ dbt.type_string() }}) as dem_gender,
    cast(case when f.age is null then null
              when f.age >= 60 then 'retired'
              when f.child_covers > 0 then 'family_with_children'
              when f.spouse_covers > 0 or f.household_size > 1 then 'couple_or_shared_household'
              when f.age < 35 then 'young_single'
              else 'established_single' end as {{ dbt.type_string() }}) as dem_life_stage,
    cast(case when f.household_size >= 5 then '5+' else cast(f.household_size as {{ dbt.type_string() }}) end as {{ dbt.type_string() }}) as dem_household_size,
    cast({{ yn | format('f.child_covers > 0') }} as {{ dbt.type_string() }}) as dem_has_children_cover,
    cast({{ yn | format('f.spouse_covers > 0') }} as {{ dbt.type_string() }}) as dem_has_spouse_cover,
    cast(f.income_band as {{ dbt.type_string() }}) as dem_income_band,
    cast(f.party_type as {{ dbt.type_string() }}) as dem_party_type,
    cast({{ yn | format('f.has_valid_id') }} as {{ dbt.type_string() }}) as dem_id_verified,
    -- value
    cast(case when f.annual_premium_in_force <= 0 then 'none' when f.annual_premium_in_force < 1000 then '<1k'
              when f.annual_premium_in_force < 5000 then '1k-5k' when f.annual_premium_in_force < 20000 then '5k-20k'
              when f.annual_premium_in_force < 100000 then '20k-100k' else '100k+' end as {{ dbt.type_string() }}) as val_premium_band,
    cast(case when f.policies_in_force >= 4 then '4+' else cast(f.policies_in_force as {{ dbt.type_string() }}) end as {{ dbt.type_string() }}) as val_policies_in_force,
    cast((case when f.premium_life > 0 then 1 else 0 end) + (case when f.premium_health > 0 then 1 else 0 end)
         + (case when f.premium_accident > 0 then 1 else 0 end) + (case when f.premium_property > 0 then 1 else 0 end)
         + (case when f.premium_annuity > 0 then 1 else 0 end) as {{ dbt.type_string() }}) as val_product_lines_held,
    cast(f.main_product_line as {{ dbt.type_string() }}) as val_main_product_line,
    cast(f.aum_band as {{ dbt.type_string() }}) as val_aum_band,
    cast({{ yn | format('f.bank_cifs > 0') }} as {{ dbt.type_string() }}) as val_bank_customer,
    cast(t.premium_trend as {{ dbt.type_string() }}) as val_premium_trend,
    cast(t.value_tier as {{ dbt.type_string() }}) as val_value_tier,
    cast(t.pyramid_layer as {{ dbt.type_string() }}) as val_pyramid_layer,
    cast(case when t.clv <= 0 then 'none' when t.clv < 2000 then '<2k' when t.clv < 10000 then '2k-10k'
              when t.clv < 50000 then '10k-50k' else '50k+' end as {{ dbt.type_string() }}) as val_clv_band,
    -- risk
    cast(case when f.claims >= 3 then '3+' else cast(f.claims as {{ dbt.type_string() }}) end as {{ dbt.type_string() }}) as rsk_claims_count,
    cast(case when f.claims_paid_amount <= 0 then 'none'
              when f.annual_premium_in_force > 0 and f.claims_paid_amount < f.annual_premium_in_force then 'below_premium'
              when f.annual_premium_in_force > 0 and f.claims_paid_amount < 5 * f.annual_premium_in_force then 'up_to_5x_premium'
              else 'over_5x_premium' end as {{ dbt.type_string() }}) as rsk_claim_severity,
    cast({{ yn | format('f.fraud_suspected_claims > 0') }} as {{ dbt.type_string() }}) as rsk_fraud_suspected,
    cast(case when f.is_smoker is null then null when f.is_smoker then 'Y' else 'N' end as {{ dbt.type_string() }}) as rsk_smoker,
    cast(f.occupation_class as {{ dbt.type_string() }}) as rsk_occupation_class,
    cast(f.health_risk_band as {{ dbt.type_string() }}) as rsk_health_risk_band,
    cast(f.credit_band as {{ dbt.type_string() }}) as rsk_credit_band,
    cast(t.risk_grade as {{ dbt.type_string() }}) as rsk_risk_grade,
    cast({{ yn | format('f.payments_failed_12m + f.payments_overdue_12m > 0') }} as {{ dbt.type_string() }}) as rsk_payment_issues_12m,
    cast(case when f.uw_decision is null then null when f.uw_decision in ('rated', 'exclusion') then 'substandard'
              when f.uw_decision in ('declined', 'postponed') then 'declined_or_postponed' else 'standard' end as {{ dbt.type_string() }}) as rsk_underwriting_class,
    -- engagement / behaviour
    cast({{ yn | format('f.app_events_30d > 0') }} as {{ dbt.type_string() }}) as eng_app_active_30d,
    cast(case when f.app_accounts = 0 then 'no_account' when f.app_events_30d = 0 then '0'
              when f.app_events_30d < 10 then '1-9' else '10+' end as {{ dbt.type_string() }}) as eng_app_events_band,
    cast({{ yn | format('f.wecom_messages_30d > 0') }} as {{ dbt.type_string() }}) as eng_wecom_active_30d,
    cast(case when f.touches_90d = 0 then 'not_touched' when f.touches_clicked_90d > 0 then 'responsive'
              else 'unresponsive' end as {{ dbt.type_string() }}) as eng_marketing_response,
    cast({{ yn | format('f.quotes_30d > 0') }} as {{ dbt.type_string() }}) as eng_quote_started_30d,
    cast({{ yn | format('f.benefit_uses_12m > 0') }} as {{ dbt.type_string() }}) as eng_benefit_user_12m,
    cast({{ yn | format('f.app_events_30d + f.wecom_messages_30d + f.tickets_12m + f.touches_clicked_90d = 0') }} as {{ dbt.type_string() }}) as eng_silent,
    cast(f.interaction_channels as {{ dbt.type_string() }}) as eng_interaction_channels,
    -- lifecycle
    cast(case when f.policies = 0 then 'prospect'
              when f.policies_in_force = 0 then 'lapsed'
              when f.surrender_requests_12m > 0 or f.policies_ended_12m > 0 then 'at_risk'
              when f.tenure_years < 1 then 'new'
              when f.tenure_years < 5 then 'growing' else 'mature' end as {{ dbt.type_string() }}) as lcy_stage,
    cast(case when f.tenure_years is null then null when f.tenure_years < 1 then '<1y' when f.tenure_years < 3 then '1-3y'
              when f.tenure_years < 5 then '3-5y' when f.tenure_years < 10 then '5-10y' else '10y+' end as {{ dbt.type_string() }}) as lcy_tenure_band,
    cast({{ yn | format('t.vip_maintenance') }} as {{ dbt.type_string() }}) as lcy_vip_maintenance,
    cast({{ yn | format('f.policies_lapsed + f.policies_surrendered > 0') }} as {{ dbt.type_string() }}) as lcy_has_lapsed_policy,
    cast({{ yn | format('f.renewals_due_90d > 0') }} as {{ dbt.type_string() }}) as lcy_renewal_due_90d,
    cast({{ yn | format('f.surrender_requests_12m > 0') }} as {{ dbt.type_string() }}) as lcy_surrender_intent_12m,
    cast(t.loyalty_grade as {{ dbt.type_string() }}) as lcy_loyalty_grade,
    -- channel preference
    cast(f.main_channel as {{ dbt.type_string() }}) as chn_purchase_channel,
    cast(case when f.app_events_30d >= greatest(f.wecom_messages_30d, f.tickets_12m) and f.app_events_30d > 0 then 'app'
              when f.wecom_messages_30d >= f.tickets_12m and f.wecom_messages_30d > 0 then 'wecom'
              when f.tickets_12m > 0 then 'call_center' else 'none' end as {{ dbt.type_string() }}) as chn_preferred_contact,
    cast({{ yn | format("f.channels like '%bancassurance%'") }} as {{ dbt.type_string() }}) as chn_bancassurance,
    cast({{ yn | format('f.online_policies > 0') }} as {{ dbt.type_string() }}) as chn_online_buyer,
    cast({{ yn | format('f.agent_served_policies > 0') }} as {{ dbt.type_string() }}) as chn_agent_served,
    cast({{ yn | format('f.acquired_by_referral > 0') }} as {{ dbt.type_string() }}) as chn_acquired_by_referral,
    -- needs / propensity
    cast({{ yn | format('f.child_covers > 0 and f.life_covers + f.critical_illness_covers = 0') }} as {{ dbt.type_string() }}) as ned_family_protection_gap,
    cast({{ yn | format('f.child_covers > 0 and f.age between 28 and 50 and f.premium_annuity = 0') }} as {{ dbt.type_string() }}) as ned_education_savings,
    cast({{ yn | format('f.age between 40 and 59 and f.premium_annuity = 0') }} as {{ dbt.type_string() }}) as ned_retirement_gap,
    cast({{ yn | format('f.premium_health > 0 and f.critical_illness_covers = 0') }} as {{ dbt.type_string() }}) as ned_health_upgrade,
    cast({{ yn | format("f.premium_property = 0 and (f.income_band >= 4 or f.aum_band in ('C', 'D'))") }} as {{ dbt.type_string() }}) as ned_property_cross_sell,
    cast({{ yn | format('f.open_leads > 0') }} as {{ dbt.type_string() }}) as ned_open_lead,
    cast(t.growth_grade as {{ dbt.type_string() }}) as ned_growth_grade,
    -- service
    cast(t.service_tier as {{ dbt.type_string() }}) as svc_service_tier,
    cast({{ yn | format('f.complaints_12m > 0') }} as {{ dbt.type_string() }}) as svc_complained_12m,
    cast(case when f.avg_satisfaction_12m is null then null when f.avg_satisfaction_12m < 3 then 'low'
              when f.avg_satisfaction_12m < 4 then 'mid' else 'high' end as {{ dbt.type_string() }}) as svc_satisfaction_band,
    cast({{ yn | format('f.claims_open > 0') }} as {{ dbt.type_string() }}) as svc_open_claim,
    cast(case when f.tickets_12m = 0 then '0' when f.tickets_12m < 3 then '1-2' else '3+' end as {{ dbt.type_string() }}) as svc_tickets_12m_band,
    -- consent / compliance
    cast(case when f.marketing_channels_opted_in > 0 and f.marketing_channels_opted_out > 0 then 'mixed'
              when f.marketing_channels_opted_in > 0 then 'opted_in'
              when f.marketing_channels_opted_out > 0 then 'opted_out' else 'unknown' end as {{ dbt.type_string() }}) as cmp_marketing_consent,
    cast({{ yn | format('f.privacy_requests > 0') }} as {{ dbt.type_string() }}) as cmp_privacy_request,
    cast({{ yn | format('f.has_mobile') }} as {{ dbt.type_string() }}) as cmp_contactable_mobile,
    cast({{ yn | format('f.has_valid_id and f.has_mobile and f.birth_date is not null') }} as {{ dbt.type_string() }}) as cmp_kyc_complete
from f
inner join t on t.customer_id = f.customer_id
