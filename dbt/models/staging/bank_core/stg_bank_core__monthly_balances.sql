-- One row per (cif_no, month): no record id and no version column, so a row delivered again
-- for the same month (a re-delivery) wins by later business date, then later row.
with current_rows as (
    {{ current_typed_rows('bank_core__monthly_balances') }}
)

select
    cast(c.cif_no as {{ dbt.type_string() }}) as cif_no,
    cast(c.month as date) as month,
    {{ money_yuan('c.avg_balance') }} as avg_balance,
    {{ money_yuan('c.inflow') }} as inflow,
    {{ money_yuan('c.outflow') }} as outflow,
    {{ lineage_columns('c') }}
from current_rows as c
