{{ config(materialized='table', schema='marts', tags=['churn']) }}
{#-
  The dated events churn features count, one row each, with the customer (and the policy, where
  the event names one) and `known_at`, when the platform knew it (macro churn_known_rows):

  - tickets (call_center): complaint, surrender_request, service_ticket (any other category);
    the customer is the owner of the ticket's policy (known by then), else the caller;
  - claims: claim_reported, and its decision claim_rejected / claim_paid / claim_closed (any
    closing status), dated on the decision; the customer is the claimant;
  - app_use: app events per customer and day (`events` = the count); an app account reaches its
    customer through identity.customer_xref;
  - touch_opened: marketing touches opened, attached by policy (its owner, once known) or else by
    the golden mobile;
  - opt_out: a marketing consent withdrawn (by the golden mobile's customer).

  `events` is 1 except for app_use. The initial load's coverage start of each kind (the first
  day its delivered history covers) is in int_churn_coverage.
-#}
with xref as (
    select source_system, source_entity, source_record_id, customer_id
    from {{ source('identity', 'customer_xref') }}
),

-- a policy attaches an event to its owner only when the policy was known by the time the event
-- was (a ticket or touch may name a policy issued later: then the caller / the golden mobile
-- decides, as it did before the policy existed)
policy_owner as (
    select policy_no, customer_id, known_from from {{ ref('int_churn_policies') }}
),

mobile_owner as (
    {{ churn_mobile_owner() }}
),

ticket_versions as (
    {{ churn_known_rows('call_center__tickets', 'opened_at') }}
),

-- category, policy and opening are fixed when a ticket is opened: read from its first version
tickets as (
    {{ churn_first_versions('ticket_versions', 'ticket_id', 'ticket_id, category, policy_no, opened_at, _known_at as known_at') }}
),

claim_versions as (
    {{ churn_known_rows('claims__claims', 'updated_at') }}
),

claim_firsts as (
    {{ churn_first_versions('claim_versions', 'claim_id', 'claim_id, policy_no, reported_at') }}
),

-- the report is fixed when the claim is made (first version); decisions come with later versions
claims as (
    select
        v.claim_id,
        max(f.policy_no) as policy_no,
        max(f.reported_at) as reported_at,
        min(case when v._is_initial_load then cast({{ dbt.dateadd('day', 1, 'cast(f.reported_at as date)') }} as timestamp)
                 else v._known_at end) as reported_known_at,
        min(case when status = 'rejected' then updated_at end) as rejected_at,
        min(case when status = 'rejected' then _known_at end) as rejected_known_at,
        min(case when status = 'paid' then updated_at end) as paid_at,
        min(case when status = 'paid' then _known_at end) as paid_known_at,
        min(case when status in ('rejected', 'paid', 'withdrawn') then updated_at end) as closed_at,
        min(case when status in ('rejected', 'paid', 'withdrawn') then _known_at end) as closed_known_at
    from claim_versions as v
    inner join claim_firsts as f on f.claim_id = v.claim_id
    group by v.claim_id
),

app_rows as (
    {{ churn_known_rows('app_events__events', 'event_time') }}
),

touch_rows as (
    {{ churn_known_rows('marketing__touches', 'coalesce(opened_at, sent_at)') }}
),

consent_rows as (
    {{ churn_known_rows('marketing__consents', 'recorded_at') }}
)

select
    cast(coalesce(o.customer_id, x.customer_id) as {{ dbt.type_string() }}) as customer_id,
    cast(t.policy_no as {{ dbt.type_string() }}) as policy_no,
    cast(case when t.category = 'complaint' then 'complaint'
              when t.category = 'surrender_request' then 'surrender_request'
              else 'service_ticket' end as {{ dbt.type_string() }}) as kind,
    cast(t.opened_at as date) as event_date,
    cast(t.known_at as timestamp) as known_at,
    cast(1 as bigint) as events
from tickets as t
left join policy_owner as o on o.policy_no = t.policy_no and o.known_from <= t.known_at
left join xref as x on x.source_system = 'call_center' and x.source_entity = 'tickets' and x.source_record_id = t.ticket_id
where coalesce(o.customer_id, x.customer_id) is not null

union all

select cast(x.customer_id as {{ dbt.type_string() }}), cast(c.policy_no as {{ dbt.type_string() }}), cast(k.kind as {{ dbt.type_string() }}),
       cast(case k.kind when 'claim_reported' then c.reported_at when 'claim_rejected' then c.rejected_at
                        when 'claim_paid' then c.paid_at else c.closed_at end as date),
       cast(case k.kind when 'claim_reported' then c.reported_known_at when 'claim_rejected' then c.rejected_known_at
                        when 'claim_paid' then c.paid_known_at else c.closed_known_at end as timestamp),
       cast(1 as bigint)
from claims as c
inner join xref as x on x.source_system = 'claims' and x.source_record_id = c.claim_id
cross join (
    select 'claim_reported' as kind union all select 'claim_rejected' union all select 'claim_paid'
    union all select 'claim_closed'
) as k
where case k.kind when 'claim_reported' then c.reported_at when 'claim_rejected' then c.rejected_at
                  when 'claim_paid' then c.paid_at else c.closed_at end is not null

union all

select cast(x.customer_id as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }}), cast('app_use' as {{ dbt.type_string() }}),
       cast(e.event_time as date), cast(max(e._known_at) as timestamp), cast(count(*) as bigint)
from app_rows as e
inner join xref as x on x.source_system = 'app_events' and x.source_entity = 'users' and x.source_record_id = e.user_id
where e.event_time is not null
group by x.customer_id, cast(e.event_time as date)

union all

select cast(coalesce(o.customer_id, mo.customer_id) as {{ dbt.type_string() }}), cast(t.policy_no as {{ dbt.type_string() }}), cast('touch_opened' as {{ dbt.type_string() }}),
       cast(t.opened_at as date), cast(t._known_at as timestamp), cast(1 as bigint)
from touch_rows as t
left join policy_owner as o on o.policy_no = t.policy_no and o.known_from <= t._known_at
left join mobile_owner as mo on mo.mobile = {{ mobile_clean('t.mobile') }} and o.customer_id is null
where t.opened_at is not null and coalesce(o.customer_id, mo.customer_id) is not null

union all

select cast(mo.customer_id as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }}), cast('opt_out' as {{ dbt.type_string() }}),
       cast(c.recorded_at as date), cast(c._known_at as timestamp), cast(1 as bigint)
from consent_rows as c
inner join mobile_owner as mo on mo.mobile = {{ mobile_clean('c.mobile') }}
where c.consent = 'opt_out'
