-- One row per cif_no: its current version (latest updated_at). Some customers' names are
-- held in uppercase pinyin (`ZHANG WEI`): name stays as delivered, name_pinyin_key matches.
with current_rows as (
    {{ current_typed_rows('bank_core__customers') }}
),

cleaned as (
    {{ person_columns_cleaned('current_rows', names=['name'], id_nos=['id_no'], mobiles=['mobile']) }}
),

name_keys as (
    {{ name_pinyin_lookup('cleaned', ['name_clean']) }}
)

select
    cast(c.cif_no as {{ dbt.type_string() }}) as cif_no,
    cast(case when c.id_type = '07' then 'enterprise' else 'person' end as {{ dbt.type_string() }}) as party_type,
    cast(c.name_clean as {{ dbt.type_string() }}) as name,
    cast(case when c.id_type <> '07' then name_keys.name_pinyin_key end as {{ dbt.type_string() }}) as name_pinyin_key,
    cast({{ map_code('id_type', 'c.id_type') }} as {{ dbt.type_string() }}) as id_type,
    {{ id_no_columns('id_no', 'c.id_no_clean', 'c.id_no', 'c.id_type') }},
    {{ mobile_columns('mobile', 'c.mobile_clean') }},
    cast(c.birth_date as date) as birth_date,
    cast(c.branch_code as {{ dbt.type_string() }}) as branch_code,
    cast(c.aum_band as {{ dbt.type_string() }}) as aum_band,
    cast({{ map_code('aum_band', 'c.aum_band') }} as {{ dbt.type_string() }}) as aum_range,
    cast(c.open_date as date) as open_date,
    cast(c.updated_at as timestamp) as updated_at,
    {{ lineage_columns('c') }}
from cleaned as c
left join name_keys
    on name_keys.name = c.name_clean
