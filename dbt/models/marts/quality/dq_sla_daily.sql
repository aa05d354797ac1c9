{{ config(materialized='table', schema='marts', tags=['quality']) }}
{#-
  Data-quality SLA figures per source system and business date (one row per system and day
  from the system's first delivery on, plus a '(all)' row per day), with a pass flag per SLA.
  Thresholds: dagster_project/quality/sla.yaml, through the generated macro dq_config().
  Inputs: the ingest log and quarantine (what was delivered, when, and what was rejected), the
  raw person-bearing rows (ID / mobile validity and the identity keys, with the staging
  normalisers), and identity.customer_xref once identity resolution has built it.
-#}
{%- set cfg = dq_config() -%}
{%- set t = cfg.thresholds -%}
{%- set v = t.volume -%}
{%- set daily_entities = [] -%}
{%- for table, e in cfg.entities.items() if e.delivered_on_day_of_month is none -%}
    {%- do daily_entities.append("'" ~ table ~ "'") -%}
{%- endfor -%}
{#- identity.customer_xref (written by the identity_resolution asset) orders this model after the
    matching; until the table exists (a first dbt run outside Dagster), duplicate_rate_after is null. -#}
{%- set xref = adapter.get_relation(database=target.database, schema='identity', identifier='customer_xref') if execute else none %}
-- depends_on: {{ source('identity', 'customer_xref') }}

with log as (
    select
        cast(system as {{ dbt.type_string() }}) as source_system,
        cast(entity as {{ dbt.type_string() }}) as entity,
        cast(business_date as date) as business_date,
        rows_read,
        rows_loaded,
        rows_quarantined,
        case when file_error is not null or coalesce(missing_required_columns, '[]') <> '[]' then 1 else 0 end as file_rejected,
        arrived_at
    from {{ source('raw', 'ingest_log') }}
    where status = 'loaded'
),

incomplete as (
    -- rows rejected because a required value or column was missing, or the file was unreadable
    select
        cast(system as {{ dbt.type_string() }}) as source_system,
        cast(_business_date as date) as business_date,
        count(*) as rows_incomplete
    from {{ source('raw', 'quarantine') }}
    where rule in ('required_missing', 'missing_required_column', 'unreadable_file')
    group by 1, 2
),

delivered as (
    select
        source_system,
        business_date,
        count(*) as files_delivered,
        sum(file_rejected) as files_rejected,
        sum(rows_read) as rows_read,
        sum(rows_loaded) as rows_loaded,
        sum(rows_quarantined) as rows_quarantined,
        max(arrived_at) as arrived_at
    from log
    group by 1, 2
),

first_dates as (
    select source_system, min(business_date) as first_date from delivered group by 1
),

-- every (system, day) from the system's first delivery to the last business date any system delivered
spine as (
    select f.source_system, d.business_date
    from first_dates as f
    cross join (select distinct business_date from delivered) as d
    where d.business_date >= f.first_date
),

day_facts as (
    select
        s.source_system,
        s.business_date,
        d.source_system is not null as delivered,
        s.business_date = f.first_date as initial_load,
        coalesce(d.files_delivered, 0) as files_delivered,
        coalesce(d.files_rejected, 0) as files_rejected,
        d.arrived_at,
        {{ dbt.datediff(dbt.dateadd('day', 1, 'cast(s.business_date as timestamp)'), to_local_timestamp('d.arrived_at'), 'second') }} / 3600.0 as delivery_lag_hours,
        coalesce(d.rows_read, 0) as rows_read,
        coalesce(d.rows_loaded, 0) as rows_loaded,
        coalesce(d.rows_quarantined, 0) as rows_quarantined,
        coalesce(i.rows_incomplete, 0) as rows_incomplete
    from spine as s
    inner join first_dates as f on f.source_system = s.source_system
    left join delivered as d on d.source_system = s.source_system and d.business_date = s.business_date
    left join incomplete as i on i.source_system = s.source_system and i.business_date = s.business_date
),

timeliness as (
    select
        *,
        delivered and delivery_lag_hours <= {{ t.delivery_due_hours }} as delivered_on_time
    from day_facts
),

-- share of changed rows visible within the due hours, over the trailing window (initial loads excluded)
change_sync as (
    select
        d.source_system,
        d.business_date,
        sum(case when h.delivered_on_time then h.rows_read else 0 end) as rows_on_time_window,
        sum(h.rows_read) as rows_window
    from timeliness as d
    inner join timeliness as h
        on h.source_system = d.source_system
        and h.business_date <= d.business_date
        and h.business_date > cast({{ dbt.dateadd('day', -t.change_sync_window_days, 'd.business_date') }} as date)
        and not h.initial_load
    group by 1, 2
),

-- volume: rows of the daily entities vs the median of the system's last deliveries (initial load excluded)
daily_volume as (
    select source_system, business_date, sum(rows_read) as volume_rows
    from log
    where source_system || '__' || entity in ({{ daily_entities | join(', ') }})
    group by 1, 2
),

volume_pairs as (
    select
        d.source_system,
        d.business_date,
        h.volume_rows as history_rows,
        row_number() over (partition by d.source_system, d.business_date order by h.business_date desc nulls last) as recency
    from daily_volume as d
    inner join first_dates as f on f.source_system = d.source_system
    inner join daily_volume as h
        on h.source_system = d.source_system
        and h.business_date < d.business_date
        and h.business_date > f.first_date
),

volume as (
    select
        d.source_system,
        d.business_date,
        d.volume_rows,
        percentile_cont(0.5) within group (order by p.history_rows) as volume_median,
        count(p.history_rows) as volume_history_days
    from daily_volume as d
    left join volume_pairs as p
        on p.source_system = d.source_system and p.business_date = d.business_date and p.recency <= {{ v.window_days }}
    group by 1, 2, 3
),

-- person-bearing records as delivered (every version), with the staging normalisers
person_rows_raw as (
{%- set parts = [] -%}
{%- for table, e in cfg.entities.items() -%}
    {%- for p in e.person_records -%}
        {%- set conds = [] -%}
        {%- if p.enterprise_column -%}
            {%- do conds.append("coalesce(trim(cast(" ~ p.enterprise_column ~ " as " ~ dbt.type_string() ~ ")), '') not in ('" ~ p.enterprise_values | join("', '") ~ "')") -%}
        {%- endif -%}
        {%- if p.identifiable_when_any -%}
            {%- set any_present = [] -%}
            {%- for c in p.identifiable_when_any -%}
                {%- do any_present.append("nullif(trim(cast(" ~ c ~ " as " ~ dbt.type_string() ~ ")), '') is not null") -%}
            {%- endfor -%}
            {%- do conds.append("(" ~ any_present | join(' or ') ~ ")") -%}
        {%- endif -%}
        {%- set part %}
    select
        '{{ e.system }}' as source_system,
        cast(_business_date as date) as business_date,
        _row_number,
        {{ p.record_id_sql }} as source_record_id,
        {% if p.id_no %}{{ id_no_clean(p.id_no) }}{% else %}cast(null as {{ dbt.type_string() }}){% endif %} as id_clean,
        {% if p.id_type %}nullif(trim(cast({{ p.id_type }} as {{ dbt.type_string() }})), ''){% else %}cast(null as {{ dbt.type_string() }}){% endif %} as id_type,
        {% if p.mobile %}{{ mobile_clean(p.mobile) }}{% else %}cast(null as {{ dbt.type_string() }}){% endif %} as mobile_clean,
        {% if p.id_no_sha256 %}nullif(lower(trim(cast({{ p.id_no_sha256 }} as {{ dbt.type_string() }}))), ''){% else %}cast(null as {{ dbt.type_string() }}){% endif %} as id_hash,
        {% if p.unionid %}nullif(trim(cast({{ p.unionid }} as {{ dbt.type_string() }})), ''){% else %}cast(null as {{ dbt.type_string() }}){% endif %} as unionid
    from {{ source('raw', table) }}
    {%- if conds %}
    where {{ conds | join(' and ') }}
    {%- endif %}
        {%- endset -%}
        {%- do parts.append(part) -%}
    {%- endfor -%}
{%- endfor %}
{{ parts | join('\n    union all\n') }}
),

person_rows as (
    select
        source_system,
        business_date,
        _row_number,
        source_record_id,
        {{ id_no_valid('id_clean', 'id_type') }} as id_valid,
        {{ mobile_valid('mobile_clean') }} as mobile_valid,
        case
            when {{ id_no_valid('id_clean', 'id_type') }} then 'id:' || {{ id_no_canonical('id_clean', 'id_type') }}
            when id_hash is not null then 'idhash:' || id_hash
            when coalesce({{ mobile_valid('mobile_clean') }}, false) and not coalesce({{ mobile_is_junk('mobile_clean') }}, false)
                then 'mobile:' || mobile_clean
            when unionid is not null then 'unionid:' || unionid
        end as identity_key
    from person_rows_raw
),

person_day as (
    select
        source_system,
        business_date,
        count(*) as person_rows_delivered,
        sum(case when id_valid is not null then 1 else 0 end) as id_numbers_checked,
        sum(case when id_valid then 1 else 0 end) as id_numbers_valid,
        sum(case when mobile_valid is not null then 1 else 0 end) as mobiles_checked,
        sum(case when mobile_valid then 1 else 0 end) as mobiles_valid
    from person_rows
    group by 1, 2
),

-- each person record once: its first delivery and its current identity key
records as (
    select source_system, source_record_id, first_seen, identity_key
    from (
        select
            source_system,
            source_record_id,
            identity_key,
            min(business_date) over (partition by source_system, source_record_id) as first_seen,
            row_number() over (
                partition by source_system, source_record_id order by business_date desc nulls last, _row_number desc nulls last
            ) as recency
        from person_rows
    ) as versions
    where recency = 1 and identity_key is not null
),

{%- if xref is not none %}
-- after resolution: the (identity key, customer) pairs; a key over several customers is a residual duplicate
resolved as (
    select r.source_system, r.source_record_id, r.first_seen, r.identity_key, cast(x.customer_id as {{ dbt.type_string() }}) as customer_id
    from records as r
    inner join {{ xref }} as x
        on x.source_system = r.source_system and cast(x.source_record_id as {{ dbt.type_string() }}) = r.source_record_id
    where x.customer_id is not null
),
{%- endif %}

scopes as (
    select source_system as scope, source_system, source_record_id, first_seen, identity_key from records
    union all
    select '(all)' as scope, source_system, source_record_id, first_seen, identity_key from records
),

scope_days as (
    select distinct source_system as scope, business_date from day_facts
    union all
    select distinct '(all)' as scope, business_date from day_facts
),

records_first_seen as (
    select scope, first_seen, count(*) as n from scopes group by 1, 2
),

keys_first_seen as (
    select scope, first_seen, count(*) as n
    from (select scope, identity_key, min(first_seen) as first_seen from scopes group by 1, 2) as k
    group by 1, 2
),

{%- if xref is not none %}
resolved_scopes as (
    select source_system as scope, identity_key, customer_id, first_seen from resolved
    union all
    select '(all)' as scope, identity_key, customer_id, first_seen from resolved
),

pairs_first_seen as (
    select scope, first_seen, count(*) as n
    from (select scope, identity_key, customer_id, min(first_seen) as first_seen from resolved_scopes group by 1, 2, 3) as p
    group by 1, 2
),

resolved_keys_first_seen as (
    select scope, first_seen, count(*) as n
    from (select scope, identity_key, min(first_seen) as first_seen from resolved_scopes group by 1, 2) as k
    group by 1, 2
),
{%- endif %}

-- counts by first-seen date, one kind per column (null elsewhere), summed up to each day below
first_seen_counts as (
    select scope, first_seen, n as records, cast(null as bigint) as identity_keys,
           cast(null as bigint) as key_customer_pairs, cast(null as bigint) as resolved_keys
    from records_first_seen
    union all
    select scope, first_seen, cast(null as bigint), n, cast(null as bigint), cast(null as bigint) from keys_first_seen
    {%- if xref is not none %}
    union all
    select scope, first_seen, cast(null as bigint), cast(null as bigint), n, cast(null as bigint) from pairs_first_seen
    union all
    select scope, first_seen, cast(null as bigint), cast(null as bigint), cast(null as bigint), n from resolved_keys_first_seen
    {%- endif %}
),

duplicates as (
    select
        d.scope,
        d.business_date,
        sum(c.records) as person_records_to_date,
        sum(c.identity_keys) as identity_keys_to_date
        {%- if xref is not none %},
        sum(c.key_customer_pairs) as key_customer_pairs_to_date,
        sum(c.resolved_keys) as resolved_keys_to_date
        {%- endif %}
    from scope_days as d
    left join first_seen_counts as c
        on c.scope = d.scope and c.first_seen <= d.business_date
    group by d.scope, d.business_date
),

per_source as (
    select
        t.source_system,
        t.business_date,
        t.delivered,
        t.initial_load,
        t.files_delivered,
        t.files_rejected,
        t.arrived_at,
        t.delivery_lag_hours,
        t.delivered_on_time,
        t.rows_read,
        t.rows_loaded,
        t.rows_quarantined,
        t.rows_incomplete,
        s.rows_on_time_window,
        s.rows_window,
        v.volume_rows,
        v.volume_median,
        coalesce(v.volume_history_days, 0) as volume_history_days,
        coalesce(p.person_rows_delivered, 0) as person_rows_delivered,
        coalesce(p.id_numbers_checked, 0) as id_numbers_checked,
        coalesce(p.id_numbers_valid, 0) as id_numbers_valid,
        coalesce(p.mobiles_checked, 0) as mobiles_checked,
        coalesce(p.mobiles_valid, 0) as mobiles_valid
    from timeliness as t
    left join change_sync as s on s.source_system = t.source_system and s.business_date = t.business_date
    left join volume as v on v.source_system = t.source_system and v.business_date = t.business_date
    left join person_day as p on p.source_system = t.source_system and p.business_date = t.business_date
),

all_sources as (
    -- one '(all)' row per business date: sums over the systems, lateness of the latest system
    select
        '(all)' as source_system,
        business_date,
        min(case when delivered then 1 else 0 end) = 1 as delivered,
        max(case when initial_load then 1 else 0 end) = 1 as initial_load,
        sum(files_delivered) as files_delivered,
        sum(files_rejected) as files_rejected,
        max(arrived_at) as arrived_at,
        max(delivery_lag_hours) as delivery_lag_hours,
        min(case when delivered_on_time then 1 else 0 end) = 1 as delivered_on_time,
        sum(rows_read) as rows_read,
        sum(rows_loaded) as rows_loaded,
        sum(rows_quarantined) as rows_quarantined,
        sum(rows_incomplete) as rows_incomplete,
        sum(rows_on_time_window) as rows_on_time_window,
        sum(rows_window) as rows_window,
        cast(null as bigint) as volume_rows,
        cast(null as double) as volume_median,
        0 as volume_history_days,
        sum(person_rows_delivered) as person_rows_delivered,
        sum(id_numbers_checked) as id_numbers_checked,
        sum(id_numbers_valid) as id_numbers_valid,
        sum(mobiles_checked) as mobiles_checked,
        sum(mobiles_valid) as mobiles_valid
    from per_source
    group by business_date
),

figures as (
    select
        r.*,
        case when r.rows_read > 0 then cast(r.rows_quarantined as double) / r.rows_read end as quarantine_rate,
        case when r.rows_read > 0 then 1 - cast(r.rows_incomplete as double) / r.rows_read end as required_completeness_rate,
        case when r.rows_read > 0 then cast(r.rows_loaded as double) / r.rows_read end as contract_validity_rate,
        case when r.rows_window > 0 then cast(r.rows_on_time_window as double) / r.rows_window end as change_sync_rate,
        case
            when not r.initial_load and r.volume_history_days >= {{ v.min_history_days }} and r.volume_median >= {{ v.min_median_rows }}
                then cast(r.volume_rows as double) / r.volume_median
        end as volume_ratio,
        case when r.id_numbers_checked > 0 then cast(r.id_numbers_valid as double) / r.id_numbers_checked end as id_validity_rate,
        case when r.mobiles_checked > 0 then cast(r.mobiles_valid as double) / r.mobiles_checked end as mobile_validity_rate,
        d.person_records_to_date,
        d.identity_keys_to_date,
        case when d.person_records_to_date > 0
            then 1 - cast(d.identity_keys_to_date as double) / d.person_records_to_date end as duplicate_rate_before,
        {%- if xref is not none %}
        case when d.key_customer_pairs_to_date > 0
            then 1 - cast(d.resolved_keys_to_date as double) / d.key_customer_pairs_to_date end as duplicate_rate_after
        {%- else %}
        cast(null as double) as duplicate_rate_after
        {%- endif %}
    from (select * from per_source union all select * from all_sources) as r
    left join duplicates as d on d.scope = r.source_system and d.business_date = r.business_date
),

flags as (
    select
        f.*,
        case
            when f.volume_ratio is null then null
            when f.volume_ratio < {{ v.min_ratio }} then 'collapse'
            when f.volume_ratio > {{ v.max_ratio }} then 'spike'
            else 'none'
        end as volume_anomaly,
        f.delivered_on_time as passes_freshness,
        case when f.change_sync_rate is not null then f.change_sync_rate >= {{ t.change_sync_min_rate }} end as passes_change_sync,
        case when f.volume_ratio is not null
            then f.volume_ratio between {{ v.min_ratio }} and {{ v.max_ratio }} end as passes_volume,
        case when f.rows_read >= {{ t.min_values_judged }}
            then f.required_completeness_rate >= {{ t.required_completeness_min_rate }} end as passes_completeness,
        case when f.rows_read >= {{ t.min_values_judged }}
            then f.quarantine_rate <= {{ t.max_quarantine_rate }} end as passes_quarantine,
        case when f.id_numbers_checked >= {{ t.min_values_judged }}
            then f.id_validity_rate >= {{ t.id_validity_min_rate }} end as passes_id_validity,
        case when f.mobiles_checked >= {{ t.min_values_judged }}
            then f.mobile_validity_rate >= {{ t.mobile_validity_min_rate }} end as passes_mobile_validity,
        case when f.duplicate_rate_after is not null
            then f.duplicate_rate_after <= {{ t.max_duplicate_rate_after }} end as passes_duplicate_rate
    from figures as f
)

select
    cast(source_system as {{ dbt.type_string() }}) as source_system,
    cast(business_date as date) as business_date,
    cast(delivered as boolean) as delivered,
    cast(initial_load as boolean) as initial_load,
    cast(files_delivered as bigint) as files_delivered,
    cast(files_rejected as bigint) as files_rejected,
    cast(arrived_at as {{ type_timestamp_tz() }}) as arrived_at,
    cast(delivery_lag_hours as double) as delivery_lag_hours,
    cast(coalesce(delivered_on_time, false) as boolean) as delivered_on_time,
    cast(rows_read as bigint) as rows_read,
    cast(rows_loaded as bigint) as rows_loaded,
    cast(rows_quarantined as bigint) as rows_quarantined,
    cast(quarantine_rate as double) as quarantine_rate,
    cast(rows_incomplete as bigint) as rows_incomplete,
    cast(required_completeness_rate as double) as required_completeness_rate,
    cast(contract_validity_rate as double) as contract_validity_rate,
    cast(rows_on_time_window as bigint) as rows_on_time_window,
    cast(rows_window as bigint) as rows_window,
    cast(change_sync_rate as double) as change_sync_rate,
    cast(volume_rows as bigint) as volume_rows,
    cast(volume_median as double) as volume_median,
    cast(volume_history_days as bigint) as volume_history_days,
    cast(volume_ratio as double) as volume_ratio,
    cast(volume_anomaly as {{ dbt.type_string() }}) as volume_anomaly,
    cast(person_rows_delivered as bigint) as person_rows_delivered,
    cast(id_numbers_checked as bigint) as id_numbers_checked,
    cast(id_validity_rate as double) as id_validity_rate,
    cast(mobiles_checked as bigint) as mobiles_checked,
    cast(mobile_validity_rate as double) as mobile_validity_rate,
    cast(person_records_to_date as bigint) as person_records_to_date,
    cast(identity_keys_to_date as bigint) as identity_keys_to_date,
    cast(duplicate_rate_before as double) as duplicate_rate_before,
    cast(duplicate_rate_after as double) as duplicate_rate_after,
    cast(coalesce(passes_freshness, false) as boolean) as passes_freshness,
    cast(passes_change_sync as boolean) as passes_change_sync,
    cast(passes_volume as boolean) as passes_volume,
    cast(passes_completeness as boolean) as passes_completeness,
    cast(passes_quarantine as boolean) as passes_quarantine,
    cast(passes_id_validity as boolean) as passes_id_validity,
    cast(passes_mobile_validity as boolean) as passes_mobile_validity,
    cast(passes_duplicate_rate as boolean) as passes_duplicate_rate,
    cast(not (
        coalesce(passes_freshness, false) = false
        or coalesce(passes_change_sync, true) = false
        or coalesce(passes_volume, true) = false
        or coalesce(passes_completeness, true) = false
        or coalesce(passes_quarantine, true) = false
        or coalesce(passes_id_validity, true) = false
        or coalesce(passes_mobile_validity, true) = false
        or coalesce(passes_duplicate_rate, true) = false
    ) as boolean) as passes_sla
from flags
