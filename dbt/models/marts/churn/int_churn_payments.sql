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

per_txn as (
    select
        txn_id,
        max(policy_no) as policy_no,
        max(due_date) as due_date,
        max(amount_fen) as amount_fen,
        min(case when _is_initial_load then cast(due_date as timestamp) else _known_at end) as due_known_at,
        min(case when status = 'paid' then paid_at end) as paid_at,
        min(case when status = 'paid' then _known_at end) as paid_known_at,
        max(case when status = 'refunded' then 1 else 0 end) as is_refund
    from versions
    group by txn_id
)

select
    cast(t.txn_id as varchar) as txn_id,
    cast(t.policy_no as varchar) as policy_no,
    cast(t.due_date as date) as due_date,
    cast(t.amount_fen / 100.0 as decimal(18, 2)) as amount,
    cast(t.due_known_at as timestamp) as due_known_at,
    cast(t.paid_at as timestamp) as paid_at,
    cast(t.paid_known_at as timestamp) as paid_known_at
from per_txn as t
where t.is_refund = 0 and t.due_date is not null
