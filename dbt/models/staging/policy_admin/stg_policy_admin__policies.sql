-- One row per policy_no: its current version (latest updated_at), typed and normalised.
with current_rows as (
    {{ current_typed_rows('policy_admin__policies') }}
),

cleaned as (
    {{ person_columns_cleaned(
        'current_rows',
        names=['holder_name', 'insured_name'],
        id_nos=['holder_id_no', 'insured_id_no'],
        mobiles=['holder_mobile'],
    ) }}
),

name_keys as (
    {{ name_pinyin_lookup('cleaned', ['holder_name_clean', 'insured_name_clean']) }}
)

select
    cast(c.policy_no as {{ dbt.type_string() }}) as policy_no,
    cast(case when c.holder_id_type = '07' then 'enterprise' else 'person' end as {{ dbt.type_string() }}) as holder_party_type,
    cast(c.holder_name_clean as {{ dbt.type_string() }}) as holder_name,
    cast(case when c.holder_id_type <> '07' then holder_key.name_pinyin_key end as {{ dbt.type_string() }}) as holder_name_pinyin_key,
    cast({{ map_code('id_type', 'c.holder_id_type') }} as {{ dbt.type_string() }}) as holder_id_type,
    {{ id_no_columns('holder_id_no', 'c.holder_id_no_clean', 'c.holder_id_no', 'c.holder_id_type') }},
    {{ mobile_columns('holder_mobile', 'c.holder_mobile_clean') }},
    cast(c.holder_birth as date) as holder_birth_date,
    cast({{ map_code('gender', 'c.holder_gender') }} as {{ dbt.type_string() }}) as holder_gender,
    cast(c.insured_name_clean as {{ dbt.type_string() }}) as insured_name,
    cast(insured_key.name_pinyin_key as {{ dbt.type_string() }}) as insured_name_pinyin_key,
    {{ id_no_columns('insured_id_no', 'c.insured_id_no_clean', 'c.insured_id_no') }},
    cast(c.insured_relation as {{ dbt.type_string() }}) as insured_relation,
    cast(c.product_code as {{ dbt.type_string() }}) as product_code,
    cast(c.product_line as {{ dbt.type_string() }}) as product_line,
    cast(c.channel as {{ dbt.type_string() }}) as channel,
    cast(c.issue_date as date) as issue_date,
    cast(c.effective_date as date) as effective_date,
    cast(c.expiry_date as date) as expiry_date,
    {{ money_yuan('c.premium_annual') }} as premium_annual,
    cast(c.payment_freq as {{ dbt.type_string() }}) as payment_freq,
    cast(c.status as {{ dbt.type_string() }}) as status_code,
    cast({{ map_code('policy_status', 'c.status') }} as {{ dbt.type_string() }}) as status,
    cast(c.agent_code as {{ dbt.type_string() }}) as agent_code,
    cast(c.branch_code as {{ dbt.type_string() }}) as branch_code,
    cast(c.updated_at as timestamp) as updated_at,
    {{ lineage_columns('c') }}
from cleaned as c
left join name_keys as holder_key
    on holder_key.name = c.holder_name_clean
left join name_keys as insured_key
    on insured_key.name = c.insured_name_clean
