{#-
  Snapshots on Spark over plain Parquet. dbt-spark's snapshot materialization needs a table
  format with MERGE (Delta, Iceberg, Hudi); Parquet has none, and those formats' jars are not
  part of a plain Spark. This is dbt-spark's materialization with the MERGE replaced by a
  rewrite: the new table (current rows with `dbt_valid_to` set where the staging relation
  closes them, plus the inserted versions) is built beside the target, then copied over it with
  INSERT OVERWRITE, in two statements that each read a different table. The rows are exactly
  what the MERGE would leave (same staging relation, same strategies). DuckDB keeps dbt's own.
-#}
{% materialization snapshot, adapter='spark' %}
  {%- set target_table = model.get('alias', model.get('name')) -%}
  {%- set strategy_name = config.get('strategy') -%}
  {%- set grant_config = config.get('grants') -%}

  {% set target_relation_exists, target_relation = get_or_create_relation(
          database=none, schema=model.schema, identifier=target_table, type='table') -%}

  {% if not adapter.check_schema_exists(model.database, model.schema) %}
    {% do create_schema(model.schema) %}
  {% endif %}
  {%- if not target_relation.is_table -%}
    {% do exceptions.relation_wrong_type(target_relation, 'table') %}
  {%- endif -%}

  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  {{ run_hooks(pre_hooks, inside_transaction=True) }}

  {% set strategy_macro = strategy_dispatch(strategy_name) %}
  {% set strategy = strategy_macro(model, "snapshotted_data", "source_data", model['config'], target_relation_exists) %}

  {% if not target_relation_exists %}
      {% set build_sql = build_snapshot_table(strategy, model['compiled_code']) %}
      {% call statement('main') %}
          {{ create_table_as(False, target_relation, build_sql) }}
      {% endcall %}
  {% else %}
      {% set columns = config.get("snapshot_table_column_names") or get_snapshot_table_column_names() %}
      {{ adapter.valid_snapshot_target(target_relation, columns) }}
      {% set staging_table = spark_build_snapshot_staging_table(strategy, sql, target_relation) %}
      {% set missing_columns = adapter.get_missing_columns(staging_table, target_relation)
                                   | rejectattr('name', 'in', ['dbt_change_type', 'DBT_CHANGE_TYPE', 'dbt_unique_key', 'DBT_UNIQUE_KEY'])
                                   | list %}
      {% do create_columns(target_relation, missing_columns) %}
      {% set target_columns = adapter.get_columns_in_relation(target_relation) | map(attribute='name') | list %}
      {% set merged_relation = api.Relation.create(identifier=target_table ~ '__dbt_merged',
                                                   schema=target_relation.schema, database=none, type='table') %}
      {% do adapter.drop_relation(merged_relation) %}
      {% call statement('build_merged_snapshot') %}
          create table {{ merged_relation }} using parquet as
          select
            {%- for c in target_columns %}
              {% if c == columns.dbt_valid_to -%}
                case when s.{{ columns.dbt_scd_id }} is not null then s.{{ columns.dbt_valid_to }} else t.{{ adapter.quote(c) }} end as {{ adapter.quote(c) }}
              {%- else -%}
                t.{{ adapter.quote(c) }}
              {%- endif %}{{ ',' if not loop.last }}
            {%- endfor %}
          from {{ target_relation }} as t
          left join (
              select {{ columns.dbt_scd_id }}, {{ columns.dbt_valid_to }}
              from {{ staging_table }}
              where dbt_change_type in ('update', 'delete')
          ) as s
            on s.{{ columns.dbt_scd_id }} = t.{{ columns.dbt_scd_id }}
           and t.{{ columns.dbt_valid_to }} is null
          union all
          select
            {%- for c in target_columns %}
              {{ adapter.quote(c) }}{{ ',' if not loop.last }}
            {%- endfor %}
          from {{ staging_table }}
          where dbt_change_type = 'insert'
      {% endcall %}
      {% call statement('main') %}
          insert overwrite table {{ target_relation }}
          select {% for c in target_columns %}{{ adapter.quote(c) }}{{ ', ' if not loop.last }}{% endfor %}
          from {{ merged_relation }}
      {% endcall %}
      {% do adapter.drop_relation(merged_relation) %}
  {% endif %}

  {% set should_revoke = should_revoke(target_relation_exists, full_refresh_mode) %}
  {% do apply_grants(target_relation, grant_config, should_revoke) %}
  {% do persist_docs(target_relation, model) %}
  {{ run_hooks(post_hooks, inside_transaction=True) }}
  {{ adapter.commit() }}
  {% if staging_table is defined %}
      {% do post_snapshot(staging_table) %}
  {% endif %}
  {{ run_hooks(post_hooks, inside_transaction=False) }}
  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
