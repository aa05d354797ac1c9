-- One row per txn_id: its current version (latest updated_at). Amounts in yuan (fen / 100).
with current_rows as (
    {{ current_typed_rows('billing__payments') }}
)

select
    cast(c.txn_id as {{ dbt.type_string() }}) as txn_id,
    cast(c.policy_no as {{ dbt.type_string() }}) as policy_no,
    cast({{ normalise_person_name('c.payer_name') }} as {{ dbt.type_string() }}) as payer_name,
    {{ fen_to_yuan('c.amount_fen') }} as amount,
    cast(c.due_date as date) as due_date,
    cast(c.paid_at as timestamp) as paid_at,
    cast(c.method as {{ dbt.type_string() }}) as method,
    cast(c.status as {{ dbt.type_string() }}) as status,
    cast(c.updated_at as timestamp) as updated_at,
    {{ lineage_columns('c') }}
from current_rows as c
