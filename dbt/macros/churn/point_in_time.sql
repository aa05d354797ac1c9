{#-
  Point in time (churn features, issue 6). Every delivered version of a raw table is known to the
  platform from a moment `_known_at` (naive Asia/Shanghai local time):

  - rows of a system's FIRST delivered folder (the initial load, which carries back-history) are
    known from their own change time: the start of the day after `fact_time` (an expression on
    the typed row; the record's own timestamp), so history can be replayed for past as-of dates;
  - rows of every later folder are known from the arrival of their folder (raw.ingest_log
    `arrived_at`; a late folder counts from its arrival; a re-delivered date, whose rows replace
    the first delivery in the lake, counts from the re-delivery).

  As of business date D the platform knows what is known before D + 1 day + the knowledge cutoff
  (`churn_known_by(known_at, as_of)`: 06:30, when the daily build of D runs).
-#}

{#- `select` of every typed version of `table_name` with `_is_initial_load` and `_known_at`. -#}
{% macro churn_known_rows(table_name, fact_time) -%}
    {%- set meta = raw_table_meta(table_name) -%}
    {%- set system = table_name.split('__')[0] -%}
    {%- set entity = table_name.split('__')[1] -%}
    select
        typed.*,
        case when typed._business_date = first_folder.business_date then true else false end as _is_initial_load,
        case
            when typed._business_date = first_folder.business_date
                then cast({{ dbt.dateadd('day', 1, 'cast(' ~ fact_time ~ ' as date)') }} as timestamp)
            else coalesce({{ to_local_timestamp('loads.arrived_at') }}, {{ to_local_timestamp('typed._loaded_at') }})
        end as _known_at
    from ({{ contract_typed(table_name) }}) as typed
    cross join (
        select min(business_date) as business_date
        from {{ source('raw', 'ingest_log') }}
        where system = '{{ system }}' and status = 'loaded'
    ) as first_folder
    left join (
        select business_date, max(arrived_at) as arrived_at
        from {{ source('raw', 'ingest_log') }}
        where system = '{{ system }}' and entity = '{{ entity }}' and status = 'loaded'
        group by business_date
    ) as loads
        on loads.business_date = typed._business_date
{%- endmacro %}

{#- The moment up to which as-of date `as_of` (a date expression) knows: the next day + cutoff. -#}
{% macro churn_cutoff(as_of) -%}
    {{ dbt.dateadd('minute', churn_config()['knowledge_cutoff_minutes'], 'cast(' ~ dbt.dateadd('day', 1, as_of) ~ ' as timestamp)') }}
{%- endmacro %}

{#- True when something known from `known_at` is known as of `as_of` (date expression). -#}
{% macro churn_known_by(known_at, as_of) -%}
    ({{ known_at }} < {{ churn_cutoff(as_of) }})
{%- endmacro %}

{#- Time-decay weight of an event `age_days` old: halves every `half_life` days. -#}
{% macro churn_decay(age_days, half_life) -%}
    exp(-0.6931471805599453 * cast({{ age_days }} as double) / {{ half_life }})
{%- endmacro %}

{#- Days from date expression `a` to date expression `b` (b - a). -#}
{% macro churn_days(a, b) -%}
    {{ dbt.datediff(a, b, 'day') }}
{%- endmacro %}

{#- The owner role of a service tier (churn.yaml actions.owners), as a case expression. -#}
{% macro churn_owner_case(tier_expr, owners) -%}
    case {{ tier_expr }}{% for tier, role in owners.items() %} when '{{ tier }}' then '{{ role }}'{% endfor %} else 'agent' end
{%- endmacro %}

{#- The first delivered version of every `key` of `relation` (what is fixed when a record is
    created is read from it: a later version must not rewrite what was known before it arrived). -#}
{% macro churn_first_versions(relation, key, columns='*') -%}
    select {{ columns }}
    from (
        select v.*,
               row_number() over (partition by {{ key }}
                                  order by _known_at asc nulls last, _business_date asc nulls last,
                                           _row_number asc nulls last) as _first_rank
        from {{ relation }} as v
    ) as ranked
    where _first_rank = 1
{%- endmacro %}

{#- The one person customer whose golden mobile (core.dim_customer) a number is; a number two
    customers share reaches neither (the rule of core.customer_360). -#}
{% macro churn_mobile_owner() -%}
    select mobile, min(customer_id) as customer_id
    from {{ ref('dim_customer') }}
    where mobile is not null and party_type = 'person'
    group by mobile
    having count(*) = 1
{%- endmacro %}
