{#-
  Name -> pinyin key: uppercase toneless pinyin syllables joined by single spaces
  (`张伟` -> `ZHANG WEI`; `曾小明` -> `ZENG XIAO MING`: the first character takes its surname
  reading from seed `pinyin_map`). A Latin name (bank_core's pinyin `ZHANG WEI`, `Zhang  Wei`)
  is uppercased with single spaces. A Latin name written without spaces (`ZHANGWEI`) stays
  `ZHANGWEI`: syllables are not guessed; compare keys without spaces to match such a name.
  Characters outside the seed are kept as they are; spaces and the middle dot are separators.

  name_pinyin_lookup(relation, ['holder_name', 'insured_name']) is a select of
  (name, name_pinyin_key) over the distinct, already normalised names (normalise_person_name)
  in those columns of `relation`; join it back on the name. Portable: the per-character
  explode is the one dispatched piece (explode_chars); the ordered join is dbt's listagg.
-#}
{% macro name_pinyin_lookup(relation, name_columns) -%}
    select name, name_pinyin_key
    from (
        with names as (
            {%- for c in name_columns %}
            select {{ c }} as name from {{ relation }} where {{ c }} is not null
            {{- "\n            union" if not loop.last }}
            {%- endfor %}
        ),
        hanzi_names as (
            select distinct name from names where not {{ regexp_like('name', '^[A-Za-z][A-Za-z .·-]*$') }}
        ),
        chars as (
            {{ explode_chars('hanzi_names', 'name') | indent(12) }}
        ),
        syllables as (
            select
                chars.name,
                chars.pos,
                coalesce(
                    case when chars.pos = 1 then nullif(pinyin_map.surname_pinyin, '') end,
                    pinyin_map.pinyin,
                    case when chars.ch not in (' ', '·', '.', '-') then upper(chars.ch) end
                ) as syllable
            from chars
            left join {{ ref('pinyin_map') }} as pinyin_map
                on pinyin_map.hanzi = chars.ch
        )
        select name, {{ dbt.listagg('syllable', "' '", 'order by pos') }} as name_pinyin_key
        from syllables
        where syllable is not null
        group by name
        union all
        select
            name,
            upper(trim({{ regexp_replace_all(regexp_replace_all('name', '[.·-]', ' '), ' +', ' ') }})) as name_pinyin_key
        from (select distinct name from names) as latin_names
        where {{ regexp_like('name', '^[A-Za-z][A-Za-z .·-]*$') }}
    ) as name_pinyin
{%- endmacro %}
