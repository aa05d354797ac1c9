{{ config(materialized='table', schema='marts', tags=['churn']) }}
{#-
  One row per premium instalment (billing txn_id, refunds left out) with what was known when:
  `due_known_at` (initial load: its due date; later folders: the arrival of its first version),
  `paid_at` and `paid_known_at` (the first version with status paid). Whether an instalment was
  missed (not paid within features.late_payment_days of its due date) as of a date is decided in
  churn_features from these, so that a payment delivered late never counts before its arrival.
-#}
with versions as (
    {{ churn_known_rows('billing__payments', 'updated_at') }}
),

-- policy, due date and amount are fixed when the instalment is created: read from its first version
firsts as (
    {{ churn_first_versions('versions', 'txn_id', 'txn_id, policy_no, due_date, amount_fen') }}
),

per_txn as (
    select
        v.txn_id,
        max(f.policy_no) as policy_no,
        max(f.due_date) as due_date,
        max(f.amount_fen) as amount_fen,
        min(case when v._is_initial_load then cast(f.due_date as timestamp) else v._known_at end) as due_known_at,
        min(case when v.status = 'paid' then v.paid_at end) as paid_at,
        min(case when v.status = 'paid' then v._known_at end) as paid_known_at,
        max(case when v.status = 'refunded' then 1 else 0 end) as is_refund
    from versions as v
    inner join firsts as f on f.txn_id = v.txn_id
    group by v.txn_id
)

select
    cast(t.txn_id as {{ dbt.type_string() }}) as txn_id,
    cast(t.policy_no as {{ dbt.type_string() }}) as policy_no,
    cast(t.due_date as date) as due_date,
    cast(t.amount_fen / 100.0 as decimal(18, 2)) as amount,
    cast(t.due_known_at as timestamp) as due_known_at,
    cast(t.paid_at as timestamp) as paid_at,
    cast(t.paid_known_at as timestamp) as paid_known_at
from per_txn as t
where t.is_refund = 0 and t.due_date is not null
