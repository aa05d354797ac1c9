-- One row per uw_case_id: its current version (latest decided_at).
with current_rows as (
    {{ current_typed_rows('underwriting__uw_cases') }}
),

cleaned as (
    {{ person_columns_cleaned('current_rows', names=['applicant_name'], id_nos=['applicant_id_no']) }}
),

name_keys as (
    {{ name_pinyin_lookup('cleaned', ['applicant_name_clean']) }}
)

select
    cast(c.uw_case_id as {{ dbt.type_string() }}) as uw_case_id,
    cast(c.policy_no as {{ dbt.type_string() }}) as policy_no,
    cast(c.proposal_no as {{ dbt.type_string() }}) as proposal_no,
    cast(c.applicant_name_clean as {{ dbt.type_string() }}) as applicant_name,
    cast(name_keys.name_pinyin_key as {{ dbt.type_string() }}) as applicant_name_pinyin_key,
    {{ id_no_columns('applicant_id_no', 'c.applicant_id_no_clean', 'c.applicant_id_no') }},
    cast(c.birth_date as date) as applicant_birth_date,
    cast(case c.smoker when 'Y' then true when 'N' then false end as boolean) as is_smoker,
    cast(c.occupation_class as integer) as occupation_class,
    cast(c.bmi as decimal(6, 2)) as bmi,
    cast(c.decision as {{ dbt.type_string() }}) as decision,
    cast(c.decided_at as date) as decided_at,
    {{ lineage_columns('c') }}
from cleaned as c
left join name_keys
    on name_keys.name = c.applicant_name_clean
