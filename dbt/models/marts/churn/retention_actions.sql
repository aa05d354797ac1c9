{{ config(materialized='incremental', schema='marts', tags=['churn'],
          pre_hook="{% if is_incremental() %}{{ clear_partitions(this, 'as_of', 'select as_of from ' ~ ref('int_churn_as_of_dates') ~ ' where is_latest') }}{% endif %}",
          **replace_partitions(['as_of'])) }}
{#-
  The next best action per at-risk or lifecycle-due customer, one a day at most, kept as a history
  (one row per as-of date and customer; a re-run of the same date first deletes all of its rows,
  so a customer restricted or capped since the earlier run loses the action).

  Rules (scoring/churn.yaml `actions`, generated macro churn_config()), in priority order: the
  first rule that is due for the customer (at_risk: risk band in at_risk_bands; renewal_due: a
  one-year cover's anniversary within [min_days, max_days]; lifecycle: days since the first policy
  within [min_days, max_days]; dormant), is not in its cooldown (the same action for the customer
  within cooldown_days, from this table's history) and has a channel the customer consented to
  (the first opted-in channel of the rule's preference list, int_retention_consents).
  Never planned: a customer of privacy.marketing_restrictions, a customer with no consented
  channel, or one who already has contact_cap_per_month contacts in the calendar month of the
  action date (marketing touches sent + actions planned on earlier as-of dates of this table).
  Owner: by service tier (account manager, or the servicing agent; an agent-owned action of a
  customer without an agent goes to the branch's service team).
-#}
{%- set cfg = churn_config() -%}
with customers as (
    select * from {{ ref('int_retention_customers') }}
),

consents as (
    select customer_id, channel from {{ ref('int_retention_consents') }} where consent = 'opt_in'
),

restricted as (
    select distinct customer_id from {{ source('privacy', 'marketing_restrictions') }}
),

history as (
    -- depends_on: {{ ref('int_churn_as_of_dates') }}
    {%- if is_incremental() %}
    select h.customer_id, h.action, h.action_date, h.as_of
    from {{ this }} as h
    where h.as_of < (select max(as_of) from customers)
    {%- else %}
    select cast(null as {{ dbt.type_string() }}) as customer_id, cast(null as {{ dbt.type_string() }}) as action, cast(null as date) as action_date,
           cast(null as date) as as_of
    where 1 = 0
    {%- endif %}
),

candidates as (
    {%- for r in cfg['action_rules'] %}
    select c.customer_id, '{{ r.action }}' as action, '{{ r.trigger }}' as trigger_type, {{ r.priority }} as priority,
           {{ r.cooldown_days }} as cooldown_days,
           {%- if r.trigger == 'at_risk' %}
           c.top_policy_no as policy_no,
           c.churn_reason as detail
    from customers as c
    where c.risk_band in ({% for b in cfg['at_risk_bands'] %}'{{ b }}'{{ ', ' if not loop.last }}{% endfor %})
           {%- elif r.trigger == 'renewal_due' %}
           c.renewal_policy_no as policy_no,
           {{ dbt.concat(["'renewal due in '", 'cast(c.days_to_renewal as ' ~ dbt.type_string() ~ ')', "' days'"]) }} as detail
    from customers as c
    where c.days_to_renewal >= {{ r.min_days }}{% if r.max_days is not none %} and c.days_to_renewal <= {{ r.max_days }}{% endif %}
           {%- elif r.trigger == 'lifecycle' %}
           cast(null as {{ dbt.type_string() }}) as policy_no,
           {{ dbt.concat(['cast(c.customer_tenure_days as ' ~ dbt.type_string() ~ ')', "' days since the first policy'"]) }} as detail
    from customers as c
    where c.customer_tenure_days >= {{ r.min_days }}{% if r.max_days is not none %} and c.customer_tenure_days <= {{ r.max_days }}{% endif %}
           {%- else %}
           cast(null as {{ dbt.type_string() }}) as policy_no,
           'no engagement for {{ cfg['dormant_days'] }} days' as detail
    from customers as c
    where c.is_dormant
           {%- endif %}
    {{ 'union all' if not loop.last }}
    {%- endfor %}
),

rule_channels as (
    {%- set rows = [] %}
    {%- for r in cfg['action_rules'] %}{% for ch in r.channels %}{% do rows.append((r.action, ch, loop.index)) %}{% endfor %}{% endfor %}
    {%- for a, ch, pref in rows %}
    select '{{ a }}' as action, '{{ ch }}' as channel, {{ pref }} as preference{{ ' union all' if not loop.last }}
    {%- endfor %}
),

reachable as (
    select cand.customer_id, cand.action, min(rc.preference) as preference
    from candidates as cand
    inner join rule_channels as rc on rc.action = cand.action
    inner join consents as cs on cs.customer_id = cand.customer_id and cs.channel = rc.channel
    group by cand.customer_id, cand.action
),

allowed as (
    select cand.*, rc.channel,
           row_number() over (partition by cand.customer_id order by cand.priority asc, cand.action asc) as rank_in_customer
    from candidates as cand
    inner join customers as c on c.customer_id = cand.customer_id
    inner join reachable as re on re.customer_id = cand.customer_id and re.action = cand.action
    inner join rule_channels as rc on rc.action = cand.action and rc.preference = re.preference
    where cand.customer_id not in (select customer_id from restricted)
      and not exists (
          select 1 from history as h
          where h.customer_id = cand.customer_id and h.action = cand.action
            and h.action_date > {{ dbt.dateadd('day', '-cand.cooldown_days', 'c.action_date') }}
      )
),

month_contacts as (
    select c.customer_id,
           c.touches_this_month + coalesce(sum(case when h.action_date is not null
                and {{ dbt.date_trunc('month', 'h.action_date') }} = {{ dbt.date_trunc('month', 'c.action_date') }}
                then 1 else 0 end), 0) as contacts_before
    from customers as c
    left join history as h on h.customer_id = c.customer_id
    group by c.customer_id, c.touches_this_month
)

select
    cast(c.as_of as date) as as_of,
    cast(c.action_date as date) as action_date,
    cast(a.customer_id as {{ dbt.type_string() }}) as customer_id,
    cast(a.action as {{ dbt.type_string() }}) as action,
    cast(a.trigger_type as {{ dbt.type_string() }}) as trigger_type,
    cast(a.priority as integer) as priority,
    cast(a.policy_no as {{ dbt.type_string() }}) as policy_no,
    cast(a.channel as {{ dbt.type_string() }}) as channel,
    cast(case when {{ churn_owner_case('c.service_tier', cfg['owners']) }} = 'account_manager' then 'account_manager'
              when c.agent_code is not null then 'agent' else 'service_team' end as {{ dbt.type_string() }}) as owner_role,
    cast(case when {{ churn_owner_case('c.service_tier', cfg['owners']) }} = 'account_manager' then c.branch_code
              else coalesce(c.agent_code, c.branch_code) end as {{ dbt.type_string() }}) as owner_id,
    cast(c.churn_probability as double) as churn_probability,
    cast(c.risk_band as {{ dbt.type_string() }}) as risk_band,
    cast(a.detail as {{ dbt.type_string() }}) as detail,
    cast(mc.contacts_before + 1 as integer) as contact_number_in_month
from allowed as a
inner join customers as c on c.customer_id = a.customer_id
inner join month_contacts as mc on mc.customer_id = a.customer_id
where a.rank_in_customer = 1
  and mc.contacts_before < {{ cfg['contact_cap_per_month'] }}
