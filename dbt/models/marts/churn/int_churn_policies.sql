{{ config(materialized='table', schema='marts', tags=['churn']) }}
{#-
  Every individual policy (a person holder; group cover is the employer's decision and never a
  churn event) with what never changes over its life (from its first delivered version), its owner customer (the holder, through
  identity.customer_xref), its renewal type (seed churn_products; an unknown product counts as
  one-year cover when its delivered term is at most 400 days) and, from the delivered versions,
  when it ended:

  - `ended_on` / `end_status`: the first version with a terminal status (lapsed, surrendered,
    matured, cancelled, claimed_out), its change date and when the platform knew it (`end_known_at`);
  - `churn_event`: lapse (LA: unpaid past the grace period), surrender (SU), non_renewal (MA of a
    one-year cover: not renewed at its expiry); maturity of a term / annuity, cancellation in the
    free look and claim-outs are not churn. `churn_date` is the date of that version's change.
  - `known_from`: when the policy itself became known (initial load: its issue date; later: the
    arrival of its first version).
-#}
with versions as (
    {{ churn_known_rows('policy_admin__policies', 'updated_at') }}
),

owners as (
    select source_record_id, customer_id
    from {{ source('identity', 'customer_xref') }}
    where source_system = 'policy_admin' and role = 'holder' and party_type = 'person'
),

firsts as (
    select
        policy_no,
        min(case when _is_initial_load then cast(issue_date as timestamp) else _known_at end) as known_from,
        min(case when status in ('LA', 'SU', 'MA', 'CL', 'CX') then updated_at end) as ended_at
    from versions
    group by policy_no
),

-- what never changes over a policy's life is read from its first delivered version (a later
-- version must not rewrite what was known before it arrived)
latest as (
    {{ churn_first_versions('versions', 'policy_no') }}
),

ended as (
    select policy_no, status as end_status, _known_at as end_known_at
    from (
        select v.*,
               row_number() over (partition by policy_no
                                  order by updated_at asc nulls last, _business_date asc nulls last,
                                           _row_number asc nulls last) as rn
        from versions as v
        where status in ('LA', 'SU', 'MA', 'CL', 'CX')
    ) as ranked
    where rn = 1
),

products as (
    select product_code, renewal_type, cash_value from {{ ref('churn_products') }}
)

select
    cast(l.policy_no as {{ dbt.type_string() }}) as policy_no,
    cast(o.customer_id as {{ dbt.type_string() }}) as customer_id,
    cast(l.product_code as {{ dbt.type_string() }}) as product_code,
    cast(l.product_line as {{ dbt.type_string() }}) as product_line,
    cast(l.channel as {{ dbt.type_string() }}) as channel,
    cast(l.payment_freq as {{ dbt.type_string() }}) as payment_freq,
    cast(l.insured_relation as {{ dbt.type_string() }}) as insured_relation,
    cast(l.agent_code as {{ dbt.type_string() }}) as agent_code,
    cast(l.branch_code as {{ dbt.type_string() }}) as branch_code,
    cast(l.issue_date as date) as issue_date,
    cast(l.effective_date as date) as effective_date,
    cast(l.expiry_date as date) as expiry_date,  -- of the first version: the fixed end of a term policy
    cast(coalesce(pr.renewal_type,
                  case when {{ dbt.datediff('l.effective_date', 'l.expiry_date', 'day') }} <= 400 then 'one_year' else 'term' end)
         as {{ dbt.type_string() }}) as renewal_type,
    cast(coalesce(pr.cash_value, false) as boolean) as cash_value,
    cast(pr.product_code is null as boolean) as product_unknown,
    cast(f.known_from as timestamp) as known_from,
    cast(cast(f.ended_at as date) as date) as ended_on,
    cast(e.end_status as {{ dbt.type_string() }}) as end_status,
    cast(e.end_known_at as timestamp) as end_known_at,
    cast(case
        when e.end_status = 'LA' then 'lapse'
        when e.end_status = 'SU' then 'surrender'
        when e.end_status = 'MA' and coalesce(pr.renewal_type,
                  case when {{ dbt.datediff('l.effective_date', 'l.expiry_date', 'day') }} <= 400 then 'one_year' else 'term' end)
                  = 'one_year' then 'non_renewal'
    end as {{ dbt.type_string() }}) as churn_event,
    cast(case when e.end_status in ('LA', 'SU') or (e.end_status = 'MA' and coalesce(pr.renewal_type,
                  case when {{ dbt.datediff('l.effective_date', 'l.expiry_date', 'day') }} <= 400 then 'one_year' else 'term' end)
                  = 'one_year') then cast(f.ended_at as date) end as date) as churn_date
from latest as l
inner join owners as o on o.source_record_id = {{ dbt.concat(['l.policy_no', "':holder'"]) }}
inner join firsts as f on f.policy_no = l.policy_no
left join ended as e on e.policy_no = l.policy_no
left join products as pr on pr.product_code = l.product_code
where l.holder_id_type <> '07'
