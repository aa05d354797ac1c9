{#-
  Every person-bearing record of the twelve systems (SOURCES.md "Person-bearing records",
  contract.yaml `person_records`), one row per (source_system, source_record_id), with the
  normalised identity attributes identity resolution compares. Enterprise parties (a group
  policy's holder, a bank's corporate customer) are kept and typed `enterprise`.

  Staging did the normalising (canonical IDs and mobiles, simplified names, pinyin keys); this
  model only puts the records in one shape, adds what is derived from them (ID hash, birth
  date and gender held in the ID, the name typed into a WeCom remark), the policy context a
  record carries, the first business date it was seen, and `is_resolvable`.
-#}

{#-
  One entry per person-record spec of the contract (contract.yaml `person_records`): the staging
  relation, its key (for the first-seen date), the record id, and the expressions of the
  attributes it carries (`r.` is the staging row); every other attribute is null.
-#}
{%- set specs = [
    {'system': 'policy_admin', 'entity': 'policies', 'role': 'holder', 'from': ref('stg_policy_admin__policies'),
     'raw': 'policy_admin__policies', 'key': 'policy_no', 'record_id': "r.policy_no || ':holder'",
     'cols': {'party_type': 'r.holder_party_type', 'name': 'r.holder_name', 'name_pinyin_key': 'r.holder_name_pinyin_key',
              'id_type': 'r.holder_id_type', 'id_type_delivered': 'true', 'id_no': 'r.holder_id_no',
              'id_no_valid': 'r.holder_id_no_valid', 'id_no_kind': 'r.holder_id_no_kind', 'mobile': 'r.holder_mobile',
              'mobile_valid': 'r.holder_mobile_valid', 'mobile_is_junk': 'r.holder_mobile_is_junk',
              'birth_date': 'r.holder_birth_date', 'gender': 'r.holder_gender', 'policy_no': 'r.policy_no',
              'agent_code': 'r.agent_code'}},
    {'system': 'policy_admin', 'entity': 'policies', 'role': 'insured', 'from': ref('stg_policy_admin__policies'),
     'raw': 'policy_admin__policies', 'key': 'policy_no', 'record_id': "r.policy_no || ':insured'",
     'cols': {'name': 'r.insured_name', 'name_pinyin_key': 'r.insured_name_pinyin_key', 'id_no': 'r.insured_id_no',
              'id_no_valid': 'r.insured_id_no_valid', 'id_no_kind': 'r.insured_id_no_kind', 'policy_no': 'r.policy_no',
              'relation_to_holder': 'r.insured_relation', 'agent_code': 'r.agent_code'}},
    {'system': 'agent_crm', 'entity': 'leads', 'role': 'lead', 'from': ref('stg_agent_crm__leads'),
     'raw': 'agent_crm__leads', 'key': 'lead_id', 'record_id': 'r.lead_id',
     'cols': {'name': 'r.customer_name', 'name_pinyin_key': 'r.customer_name_pinyin_key', 'id_no': 'r.id_no',
              'id_no_valid': 'r.id_no_valid', 'id_no_kind': 'r.id_no_kind', 'mobile': 'r.mobile',
              'mobile_valid': 'r.mobile_valid', 'mobile_is_junk': 'r.mobile_is_junk', 'wechat_id': 'r.wechat_id',
              'policy_no': 'r.won_policy_no', 'agent_code': 'r.agent_code'}},
    {'system': 'underwriting', 'entity': 'uw_cases', 'role': 'applicant', 'from': ref('stg_underwriting__uw_cases'),
     'raw': 'underwriting__uw_cases', 'key': 'uw_case_id', 'record_id': 'r.uw_case_id',
     'cols': {'name': 'r.applicant_name', 'name_pinyin_key': 'r.applicant_name_pinyin_key', 'id_no': 'r.applicant_id_no',
              'id_no_valid': 'r.applicant_id_no_valid', 'id_no_kind': 'r.applicant_id_no_kind',
              'birth_date': 'r.applicant_birth_date', 'policy_no': 'r.policy_no'}},
    {'system': 'claims', 'entity': 'claims', 'role': 'claimant', 'from': ref('stg_claims__claims'),
     'raw': 'claims__claims', 'key': 'claim_id', 'record_id': 'r.claim_id',
     'cols': {'name': 'r.claimant_name', 'name_pinyin_key': 'r.claimant_name_pinyin_key', 'id_no': 'r.claimant_id_no',
              'id_no_valid': 'r.claimant_id_no_valid', 'id_no_kind': 'r.claimant_id_no_kind', 'mobile': 'r.claimant_mobile',
              'mobile_valid': 'r.claimant_mobile_valid', 'mobile_is_junk': 'r.claimant_mobile_is_junk',
              'policy_no': 'r.policy_no'}},
    {'system': 'call_center', 'entity': 'tickets', 'role': 'caller', 'from': ref('stg_call_center__tickets'),
     'raw': 'call_center__tickets', 'key': 'ticket_id', 'record_id': 'r.ticket_id',
     'where': 'r.caller_is_identifiable',
     'cols': {'name': 'r.caller_name', 'name_pinyin_key': 'r.caller_name_pinyin_key', 'mobile': 'r.caller_mobile',
              'mobile_valid': 'r.caller_mobile_valid', 'mobile_is_junk': 'r.caller_mobile_is_junk',
              'policy_no': 'r.policy_no'}},
    {'system': 'call_center', 'entity': 'privacy_requests', 'role': 'requester',
     'from': ref('stg_call_center__privacy_requests'), 'raw': 'call_center__privacy_requests', 'key': 'request_id',
     'record_id': 'r.request_id',
     'cols': {'name': 'r.name', 'name_pinyin_key': 'r.name_pinyin_key', 'id_no': 'r.id_no', 'id_no_valid': 'r.id_no_valid',
              'id_no_kind': 'r.id_no_kind', 'mobile': 'r.mobile', 'mobile_valid': 'r.mobile_valid',
              'mobile_is_junk': 'r.mobile_is_junk'}},
    {'system': 'app_events', 'entity': 'users', 'role': 'app_user', 'from': ref('stg_app_events__users'),
     'raw': 'app_events__users', 'key': 'user_id', 'record_id': 'r.user_id',
     'cols': {'name': 'r.real_name', 'name_pinyin_key': 'r.real_name_pinyin_key', 'id_no': 'r.id_no',
              'id_no_valid': 'r.id_no_valid', 'id_no_kind': 'r.id_no_kind', 'mobile': 'r.mobile',
              'mobile_valid': 'r.mobile_valid', 'mobile_is_junk': 'r.mobile_is_junk'}},
    {'system': 'bank_core', 'entity': 'customers', 'role': 'bank_customer', 'from': ref('stg_bank_core__customers'),
     'raw': 'bank_core__customers', 'key': 'cif_no', 'record_id': 'r.cif_no',
     'cols': {'party_type': 'r.party_type', 'name': 'r.name', 'name_pinyin_key': 'r.name_pinyin_key',
              'id_type': 'r.id_type', 'id_type_delivered': 'true', 'id_no': 'r.id_no', 'id_no_valid': 'r.id_no_valid',
              'id_no_kind': 'r.id_no_kind', 'mobile': 'r.mobile', 'mobile_valid': 'r.mobile_valid',
              'mobile_is_junk': 'r.mobile_is_junk', 'birth_date': 'r.birth_date'}},
    {'system': 'scrm_wechat', 'entity': 'contacts', 'role': 'wecom_contact', 'from': 'wecom_named',
     'raw': 'scrm_wechat__contacts', 'key': 'external_userid', 'record_id': 'r.external_userid',
     'cols': {'name': 'r.contact_name', 'name_pinyin_key': 'r.contact_name_pinyin_key',
              'name_is_nickname': 'r.remark_name is null', 'nickname_reads_as_name': 'r.nickname_reads_as_name',
              'mobile': 'r.remark_mobile',
              'mobile_valid': 'r.remark_mobile_valid', 'mobile_is_junk': 'r.remark_mobile_is_junk',
              'unionid': 'r.unionid', 'agent_code': 'r.agent_code'}},
    {'system': 'external_data', 'entity': 'risk_bands', 'role': 'bands_subject',
     'from': ref('stg_external_data__risk_bands'), 'raw': 'external_data__risk_bands', 'key': 'id_no_sha256',
     'seen_key': 'lower(seen.id_no_sha256)', 'record_id': 'r.id_no_sha256',
     'cols': {'delivered_id_no_sha256': 'r.id_no_sha256'}},
] -%}

{#- the attributes every spec yields, in order, with their type -#}
{%- set attributes = [
    ('party_type', dbt.type_string(), "'person'"), ('name', dbt.type_string(), none),
    ('name_pinyin_key', dbt.type_string(), none), ('name_is_nickname', 'boolean', 'false'),
    ('nickname_reads_as_name', 'boolean', 'false'),
    ('id_type', dbt.type_string(), none), ('id_type_delivered', 'boolean', 'false'), ('id_no', dbt.type_string(), none),
    ('id_no_valid', 'boolean', none), ('id_no_kind', dbt.type_string(), "'missing'"),
    ('delivered_id_no_sha256', dbt.type_string(), none), ('mobile', dbt.type_string(), none),
    ('mobile_valid', 'boolean', none), ('mobile_is_junk', 'boolean', none), ('birth_date', 'date', none),
    ('gender', dbt.type_string(), none), ('wechat_id', dbt.type_string(), none), ('unionid', dbt.type_string(), none),
    ('policy_no', dbt.type_string(), none), ('relation_to_holder', dbt.type_string(), none),
    ('agent_code', dbt.type_string(), none),
] -%}

with

-- first business date each key was delivered (any version) ------------------------------------
{%- set raw_tables = [] %}
{%- for spec in specs if spec.raw not in raw_tables %}
{%- do raw_tables.append(spec.raw) %}
seen_{{ spec.raw }} as ({{ first_seen_dates(spec.raw, [spec.key]) }}),
{%- endfor %}

-- WeCom: the name an agent typed into the remark, else the nickname --------------------------
wecom_texts as (
    select
        c.*,
        {{ remark_person_name('c.remark') }} as remark_name_text
    from {{ ref('stg_scrm_wechat__contacts') }} as c
),

wecom as (
    select
        wecom_texts.*,
        {{ person_name_from_text('remark_name_text') }} as remark_name,
        {{ person_name_from_text('nickname') }} as nickname_name
    from wecom_texts
),

-- a nickname written like a personal name: 2-3 Chinese characters starting with a common
-- surname (seed `surnames`), or 3-4 starting with a two-character surname. 王雨琪 reads as a
-- name, 大海 / 老王 / 平安是福 do not.
wecom_names as (
    select
        wecom.*,
        coalesce(remark_name, nickname_name) as contact_name,
        coalesce({{ regexp_like('wecom.nickname_name', '^[\\x{3400}-\\x{9fff}]{2,4}$') }} and (
            (length(wecom.nickname_name) <= 3 and single.surname is not null)
            or (length(wecom.nickname_name) >= 3 and substr(wecom.nickname_name, 1, 2) in (
                {%- for c in compound_surnames() %}'{{ c }}'{{ ', ' if not loop.last }}{% endfor -%}
            ))
        ), false) as nickname_reads_as_name
    from wecom
    left join {{ ref('surnames') }} as single on single.surname = substr(wecom.nickname_name, 1, 1)
),

wecom_name_keys as (
    {{ name_pinyin_lookup('wecom_names', ['contact_name']) }}
),

wecom_named as (
    select w.*, k.name_pinyin_key as contact_name_pinyin_key
    from wecom_names as w
    left join wecom_name_keys as k on k.name = w.contact_name
),

-- one select per person-record spec, all with the same columns -----------------------------------
unioned as (
    {%- for spec in specs %}
    select
        '{{ spec.system }}' as source_system,
        '{{ spec.entity }}' as source_entity,
        '{{ spec.role }}' as role,
        {{ spec.record_id }} as source_record_id,
        {%- for col, type, default in attributes %}
        cast({{ spec.cols.get(col, default or 'null') }} as {{ type }}) as {{ col }},
        {%- endfor %}
        seen.first_seen_date,
        r._business_date as current_version_date
    from {{ spec.from }} as r
    left join seen_{{ spec.raw }} as seen on {{ spec.get('seen_key', 'seen.' ~ spec.key) }} = r.{{ spec.key }}
    {%- if spec.where %}
    -- SOURCES.md: a ticket's caller is a person-bearing record only when identifiable
    where {{ spec.where }}
    {%- endif %}
    {{ 'union all' if not loop.last }}
    {%- endfor %}
),

-- sources without an id type column: the document a number is, read from its form. A
-- resident ID is 15 or 18 characters; a HK/Macau permit (回乡证) H or M and 8 (or 10) digits, a
-- passport E (or G, D, S, P) and 8 digits (E + letter + 7), a Taiwan permit (台胞证) 8 digits.
-- Staging checked such a number as a resident ID (kind `malformed`); it is a document number.
typed as (
    select
        unioned.*,
        case
            when id_type is not null or id_no is null then null
            when {{ regexp_like('id_no', '^[HM][0-9]{8}([0-9]{2})?$') }} then 'hk_macau_permit'
            when {{ regexp_like('id_no', '^([EGDSP][0-9]{8}|E[A-Z][0-9]{7})$') }} then 'passport'
            when {{ regexp_like('id_no', '^[0-9]{8}$') }} then 'taiwan_permit'
        end as id_type_by_form
    from unioned
),

derived as (
    select
        typed.*,
        -- other numbers of sources without an id type are resident IDs (staging checks them as such)
        coalesce(id_type, id_type_by_form, case when id_no is not null then 'resident_id' end) as id_type_or_assumed,
        case when id_type_by_form is not null then 'unchecked' else id_no_kind end as id_no_kind_or_form,
        -- a resident ID's full shape (17 digits + check character) that fails its check digit or
        -- holds an impossible birth date: a typo of some real ID (one digit changed)
        coalesce(id_type, 'resident_id') = 'resident_id' and id_type_by_form is null
            and (id_no_kind = 'bad_check_digit'
                 or (id_no_kind = 'malformed' and {{ regexp_like('id_no', '^[0-9]{17}[0-9X]$') }}))
            as has_mistyped_resident_id,
        id_no_kind in ('valid', 'upgraded_15') and coalesce(id_type, 'resident_id') = 'resident_id' as has_valid_resident_id,
        -- a placeholder typed to get past a form: one character repeated (000000000000000000)
        id_no is not null and replace(id_no, substr(id_no, 1, 1), '') = '' as id_no_is_junk
    from typed
),

shaped as (
    select
        derived.*,
        (has_valid_resident_id or has_mistyped_resident_id) and not id_no_is_junk as has_resident_id_form
    from derived
)

select
    cast(source_system as {{ dbt.type_string() }}) as source_system,
    cast(source_entity as {{ dbt.type_string() }}) as source_entity,
    cast(role as {{ dbt.type_string() }}) as role,
    cast(source_record_id as {{ dbt.type_string() }}) as source_record_id,
    cast(party_type as {{ dbt.type_string() }}) as party_type,
    cast(name as {{ dbt.type_string() }}) as name,
    cast(name_pinyin_key as {{ dbt.type_string() }}) as name_pinyin_key,
    cast(name_is_nickname as boolean) as name_is_nickname,
    cast(id_type_or_assumed as {{ dbt.type_string() }}) as id_type,
    cast(id_type_delivered as boolean) as id_type_delivered,
    cast(id_no as {{ dbt.type_string() }}) as id_no,
    cast(case when id_type_by_form is null then id_no_valid end as boolean) as id_no_valid,
    cast(id_no_kind_or_form as {{ dbt.type_string() }}) as id_no_kind,
    cast(id_no_is_junk as boolean) as id_no_is_junk,
    cast(coalesce(
        delivered_id_no_sha256,
        case when has_resident_id_form then {{ sha256_hex('id_no') }} end
    ) as {{ dbt.type_string() }}) as id_no_sha256,
    cast(mobile as {{ dbt.type_string() }}) as mobile,
    cast(mobile_valid as boolean) as mobile_valid,
    cast(mobile_is_junk as boolean) as mobile_is_junk,
    cast(birth_date as date) as birth_date,
    cast(gender as {{ dbt.type_string() }}) as gender,
    cast(case when has_valid_resident_id then {{ id_birth_date('id_no') }} end as date) as birth_date_from_id,
    cast(case when has_valid_resident_id then {{ id_gender('id_no') }} end as {{ dbt.type_string() }}) as gender_from_id,
    cast(wechat_id as {{ dbt.type_string() }}) as wechat_id,
    cast(unionid as {{ dbt.type_string() }}) as unionid,
    cast(policy_no as {{ dbt.type_string() }}) as policy_no,
    cast(relation_to_holder as {{ dbt.type_string() }}) as relation_to_holder,
    cast(agent_code as {{ dbt.type_string() }}) as agent_code,
    cast(case
        when party_type = 'enterprise' then id_no_valid or name is not null
        else coalesce(
            (id_no_kind_or_form in ('valid', 'upgraded_15', 'unchecked') and not id_no_is_junk)
            or has_resident_id_form
            or delivered_id_no_sha256 is not null
            or (mobile_valid and not mobile_is_junk)
            or wechat_id is not null
            or (name is not null and (not name_is_nickname or nickname_reads_as_name)
                and (birth_date is not null or policy_no is not null or agent_code is not null)),
            false)
    end as boolean) as is_resolvable,
    cast(first_seen_date as date) as first_seen_date,
    cast(current_version_date as date) as current_version_date
from shaped
