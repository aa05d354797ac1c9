{#-
  High volume, so incremental. A run picks up the raw rows loaded since the last run
  (`_loaded_at` newer than the target's max) and rebuilds every `_business_date` partition
  they belong to from ALL of that date's raw rows: the `_business_date` partitions in the batch
  replace their old rows (replace_partitions: delete+insert on DuckDB, insert_overwrite of the
  partitions on Spark), so a re-delivered date replaces its
  earlier delivery, and a late date simply arrives. Within the rebuilt dates, one row per
  event_id (latest event_time, then later date, then later row). Events are immutable facts
  delivered once; an event_id re-sent under a *different* business date is caught by the
  unique test rather than silently merged. `dbt build --full-refresh` rebuilds everything.
-#}
{{ config(
    materialized='incremental',
    on_schema_change='append_new_columns',
    **replace_partitions(['_business_date'])
) }}

with typed as (
    {{ contract_typed('app_events__events') }}
),

{% if is_incremental() %}
reloaded_dates as (
    select distinct _business_date
    from typed
    where _loaded_at > (select coalesce(max(_loaded_at), cast('1900-01-01 00:00:00+00:00' as {{ type_timestamp_tz() }})) from {{ this }})
),

batch as (
    select typed.*
    from typed
    inner join reloaded_dates
        on reloaded_dates._business_date = typed._business_date
),
{% else %}
batch as (
    select * from typed
),
{% endif %}

current_rows as (
    {{ current_version('batch', 'app_events__events') }}
)

select
    cast(c.event_id as {{ dbt.type_string() }}) as event_id,
    cast(c.user_id as {{ dbt.type_string() }}) as user_id,
    cast(c.device_id as {{ dbt.type_string() }}) as device_id,
    cast(c.event_time as timestamp) as event_time,
    cast(c.event_time as date) as event_date,
    cast(c.event_name as {{ dbt.type_string() }}) as event_name,
    cast(c.page as {{ dbt.type_string() }}) as page,
    cast(c.props as {{ dbt.type_string() }}) as props,
    {{ lineage_columns('c') }}
from current_rows as c
