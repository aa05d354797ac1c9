{#-
  Golden-record survivorship: the one surviving value of an attribute per customer.

    {{ survivor('name', 'customer_records', value='c.name', extra=['c.name_pinyin_key'],
                where='c.name is not null and not c.name_is_nickname',
                order=['case when c.name_is_latin then 1 else 0 end', 'trust_rank', 'c.current_version_date desc']) }}

  A select of (customer_id, <attribute>, <extra...>, <attribute>_source_system,
  <attribute>_source_record_id): per customer, the first candidate record (`where`; `c.` is the
  record) by `order`, where `trust_rank` is the record's rank in seed survivorship_rules for this
  attribute (a source not listed ranks 99); ties end on the record key, so the choice is
  deterministic.
-#}
{% macro survivor(attribute, relation, value, where, order, extra=[]) -%}
    select customer_id, {{ attribute }}
        {%- for e in extra %}, {{ e.split('.')[-1] }}{% endfor %},
        source_system as {{ attribute }}_source_system,
        source_record_id as {{ attribute }}_source_record_id
    from (
        select
            c.customer_id,
            {{ value }} as {{ attribute }},
            {%- for e in extra %}
            {{ e }} as {{ e.split('.')[-1] }},
            {%- endfor %}
            c.source_system,
            c.source_record_id,
            row_number() over (
                partition by c.customer_id
                order by {{ order | join(', ') | replace('trust_rank', 'coalesce(trust.trust_rank, 99)') }}, c.source_system asc nulls last, c.source_record_id asc nulls last
            ) as survivor_rank
        from {{ relation }} as c
        left join (
            select source_system as trust_source_system, role as trust_role, trust_rank
            from {{ ref('survivorship_rules') }}
            where attribute = '{{ attribute }}'
        ) as trust
            on trust.trust_source_system = c.source_system and trust.trust_role = c.role
        where {{ where }}
    ) as ranked
    where survivor_rank = 1
{%- endmacro %}
