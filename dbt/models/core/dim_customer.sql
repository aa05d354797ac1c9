{#-
  The golden record: one row per customer (identity.customer_xref), persons and enterprises,
  each attribute the survivor of the customer's records under the rules below, with the source
  record it came from (`<attribute>_source_system`, `<attribute>_source_record_id`).

  Survivorship (first criterion first; every order ends on the record key, so it is stable):
  - name: a real name (not a WeCom nickname), a Chinese name before a pinyin-form one, then the
    source trust ranking (seed survivorship_rules), then the latest version;
  - id_no: validity (valid or upgraded 15-digit, then bad check digit, then unchecked
    documents; malformed and placeholders never), then trust, then the latest version;
  - mobile: a valid, non-placeholder number; the latest version first (people change numbers),
    then trust;
  - birth_date / gender: read from the surviving valid ID when there is one, else the delivered
    value by trust, then the latest version.
-#}

with records as (
    select * from {{ ref('int_customer_records') }}
),

names as (
    {{ survivor('name', 'records', value='c.name', extra=['c.name_pinyin_key'],
                where='c.name is not null and not c.name_is_nickname',
                order=['case when c.name_is_latin then 1 else 0 end', 'trust_rank', 'c.current_version_date desc nulls last']) }}
),

ids as (
    {{ survivor('id_no', 'records', value='c.id_no', extra=['c.id_type', 'c.id_no_kind'],
                where="c.id_no is not null and not c.id_no_is_junk and c.id_no_kind in ('valid', 'upgraded_15', 'bad_check_digit', 'unchecked')",
                order=["case c.id_no_kind when 'valid' then 0 when 'upgraded_15' then 1 when 'bad_check_digit' then 3 else 2 end",
                       'trust_rank', 'c.current_version_date desc nulls last']) }}
),

mobiles as (
    {{ survivor('mobile', 'records', value='c.mobile',
                where='c.mobile_valid and not c.mobile_is_junk',
                order=['c.current_version_date desc nulls last', 'trust_rank']) }}
),

births as (
    {{ survivor('birth_date', 'records', value='c.effective_birth_date',
                where='c.effective_birth_date is not null',
                order=['case when c.birth_date_from_id is not null then 0 else 1 end', 'trust_rank',
                       'c.current_version_date desc nulls last']) }}
),

genders as (
    {{ survivor('gender', 'records', value='coalesce(c.gender_from_id, c.gender)',
                where='coalesce(c.gender_from_id, c.gender) is not null',
                order=['case when c.gender_from_id is not null then 0 else 1 end', 'trust_rank',
                       'c.current_version_date desc nulls last']) }}
),

customers as (
    select
        customer_id,
        max(party_type) as party_type,
        count(*) as record_count,
        count(distinct source_system) as source_system_count,
        {{ sorted_distinct_listagg('source_system', "','") }} as source_systems,
        min(first_seen_date) as first_seen_date,
        max(current_version_date) as last_seen_date,
        max(case when match_rule in ('resident_id', 'document_no', 'credit_code') then 1 else 0 end) = 1 as has_valid_id,
        max(case when match_rule in ('probabilistic', 'mobile_exclusive', 'caller_policy', 'name_agent', 'name_typo_mobile', 'caller_policy_name', 'name_exclusive') then 1 else 0 end) = 1 as has_probabilistic_links,
        max(case when is_resolvable then 1 else 0 end) = 1 as is_resolvable,
        max(case when is_anchor then source_system end) as anchor_source_system,
        max(case when is_anchor then source_record_id end) as anchor_source_record_id
    from records
    group by customer_id
)

select
    c.customer_id,
    c.party_type,
    cast(case
        when not c.is_resolvable then 'unresolvable'
        when c.record_count = 1 then 'single_record'
        else 'resolved'
    end as {{ dbt.type_string() }}) as resolution_status,
    n.name,
    n.name_pinyin_key,
    n.name_source_system,
    n.name_source_record_id,
    i.id_type,
    i.id_no,
    i.id_no_kind,
    i.id_no_source_system,
    i.id_no_source_record_id,
    m.mobile,
    m.mobile_source_system,
    m.mobile_source_record_id,
    b.birth_date,
    b.birth_date_source_system,
    b.birth_date_source_record_id,
    g.gender,
    g.gender_source_system,
    g.gender_source_record_id,
    h.household_id,
    c.record_count,
    c.source_system_count,
    c.source_systems,
    c.has_valid_id,
    c.has_probabilistic_links,
    c.first_seen_date,
    c.last_seen_date,
    c.anchor_source_system,
    c.anchor_source_record_id
from customers as c
left join names as n on n.customer_id = c.customer_id
left join ids as i on i.customer_id = c.customer_id
left join mobiles as m on m.customer_id = c.customer_id
left join births as b on b.customer_id = c.customer_id and c.party_type = 'person'
left join genders as g on g.customer_id = c.customer_id and c.party_type = 'person'
left join {{ ref('int_customer_households') }} as h on h.customer_id = c.customer_id
