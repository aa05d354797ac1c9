-- One row per id_no_sha256: its current version (latest as_of). The hash is of the canonical
-- 18-character uppercase ID (see id_no_canonical), lower-case hex.
with current_rows as (
    {{ current_typed_rows('external_data__risk_bands') }}
)

select
    cast(lower(c.id_no_sha256) as {{ dbt.type_string() }}) as id_no_sha256,
    cast(c.credit_band as {{ dbt.type_string() }}) as credit_band,
    cast(c.income_band as integer) as income_band,
    cast(c.health_risk_band as {{ dbt.type_string() }}) as health_risk_band,
    cast(c.as_of as date) as as_of,
    {{ lineage_columns('c') }}
from current_rows as c
