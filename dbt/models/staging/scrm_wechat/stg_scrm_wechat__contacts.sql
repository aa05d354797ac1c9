-- One row per external_userid: its current version (latest updated_at); contacts deleted
-- (op D) are gone. `remark` is free text an agent typed: the first mobile-looking number in it
-- is extracted (remark_mobile) for identity resolution, white space and dashes inside it ignored.
-- (The pattern is written once as the regex engine sees it, `[\s-]`: a Jinja string literal
-- unescapes `\\` to `\`, and regexp_replace_all / regex_literal write it for each engine.)
with current_rows as (
    {{ current_typed_rows('scrm_wechat__contacts') }}
),

cleaned as (
    select
        current_rows.*,
        {{ normalise_text('remark') }} as remark_clean
    from current_rows
),

with_remark_mobile as (
    select
        cleaned.*,
        {{ mobile_clean(
            "nullif(" ~ regexp_extract(regexp_replace_all('remark_clean', '[\\s-]', ''), '1[3-9][0-9]{9}', 0) ~ ", '')"
        ) }} as remark_mobile_clean
    from cleaned
)

select
    cast(c.external_userid as {{ dbt.type_string() }}) as external_userid,
    cast(c.op as {{ dbt.type_string() }}) as op,
    cast(c.unionid as {{ dbt.type_string() }}) as unionid,
    cast({{ normalise_text('c.nickname') }} as {{ dbt.type_string() }}) as nickname,
    cast(c.remark_clean as {{ dbt.type_string() }}) as remark,
    {{ mobile_columns('remark_mobile', 'c.remark_mobile_clean') }},
    cast(c.agent_code as {{ dbt.type_string() }}) as agent_code,
    cast(c.added_at as timestamp) as added_at,
    cast(c.last_message_at as timestamp) as last_message_at,
    cast(c.messages_30d as integer) as messages_30d,
    cast(c.updated_at as timestamp) as updated_at,
    {{ lineage_columns('c') }}
from with_remark_mobile as c
