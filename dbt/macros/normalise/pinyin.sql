{#-
  Name -> pinyin key, in the form Chinese banks and passports write names: uppercase toneless
  pinyin, the surname, one space, then the given name's syllables joined without a space:
  `张伟` -> `ZHANG WEI`, `张晓明` -> `ZHANG XIAOMING`, `欧阳修` -> `OUYANG XIU` (compound
  surnames), `曾小明` -> `ZENG XIAOMING` (the surname reading of 曾, from seed `pinyin_map`).
  This is the convention bank_core's pinyin names follow (`ZHANG WEI`, `ZHANG QISI`), so a
  hanzi name and the same person's pinyin name get the same key.

  A Latin (pinyin) name is uppercased and put in the same form: its first word, one space,
  the other words joined (`Zhang  Wei` -> `ZHANG WEI`, `ZHANG XIAO MING` -> `ZHANG XIAOMING`).
  A Latin name written without any space (`ZHANGWEI`) stays `ZHANGWEI`: the surname is not
  guessed; compare keys with spaces removed to match such a name. Characters outside the seed
  are kept as they are; spaces, dots and the middle dot are dropped.

  name_pinyin_lookup(relation, ['holder_name', 'insured_name']) is a select of
  (name, name_pinyin_key) over the distinct, already normalised names (normalise_person_name)
  in those columns of `relation`; join it back on the name. Portable: the per-character
  explode (explode_chars) and the ordered joins (ordered_listagg) are dispatched (macros/engine).
-#}

{#- Two-character surnames: both characters form the surname part of the key. -#}
{% macro compound_surnames() -%}
    {{- return(['欧阳', '司马', '上官', '诸葛', '东方', '皇甫', '尉迟', '公孙', '慕容', '长孙', '宇文', '司徒',
                '夏侯', '令狐', '端木', '独孤', '南宫', '西门', '轩辕', '百里', '呼延', '澹台', '公冶', '宗政',
                '濮阳', '太叔', '申屠', '钟离', '闻人', '赫连', '第五']) -}}
{%- endmacro %}

{% macro name_pinyin_lookup(relation, name_columns) -%}
    {%- set latin = '^[A-Za-z][A-Za-z .·-]*$' -%}
    select name, name_pinyin_key
    from (
        with names as (
            {%- for c in name_columns %}
            select {{ c }} as name from {{ relation }} where {{ c }} is not null
            {{- "\n            union" if not loop.last }}
            {%- endfor %}
        ),
        distinct_names as (
            select distinct name from names
        ),
        hanzi_names as (
            select name from distinct_names where not {{ regexp_like('name', latin) }}
        ),
        chars as (
            {{ explode_chars('hanzi_names', 'name') | indent(12) }}
        ),
        syllables as (
            select
                chars.name,
                chars.pos,
                case
                    when chars.pos = 1 then 'surname'
                    when chars.pos = 2 and substr(chars.name, 1, 2) in (
                        {%- for s in compound_surnames() %}'{{ s }}'{{ ', ' if not loop.last }}{% endfor -%}
                    ) then 'surname'
                    else 'given'
                end as part,
                coalesce(
                    case when chars.pos = 1 then nullif(pinyin_map.surname_pinyin, '') end,
                    pinyin_map.pinyin,
                    case when chars.ch not in (' ', '·', '.', '-') then upper(chars.ch) end
                ) as syllable
            from chars
            left join {{ ref('pinyin_map') }} as pinyin_map
                on pinyin_map.hanzi = chars.ch
        ),
        hanzi_parts as (
            select
                name,
                {{ ordered_listagg("case when part = 'surname' then syllable end", "''", 'pos') }} as surname_key,
                {{ ordered_listagg("case when part = 'given' then syllable end", "''", 'pos') }} as given_key
            from syllables
            where syllable is not null
            group by name
        ),
        latin_names as (
            select
                name,
                upper(trim({{ regexp_replace_all(regexp_replace_all('name', '[.·-]', ' '), ' +', ' ') }})) as spaced
            from distinct_names
            where {{ regexp_like('name', latin) }}
        )
        select
            name,
            case
                when nullif(given_key, '') is null then surname_key
                else surname_key || ' ' || given_key
            end as name_pinyin_key
        from hanzi_parts
        union all
        select
            name,
            case
                when {{ dbt.position("' '", 'spaced') }} = 0 then spaced
                else substr(spaced, 1, {{ dbt.position("' '", 'spaced') }} - 1) || ' '
                    || replace(substr(spaced, {{ dbt.position("' '", 'spaced') }} + 1), ' ', '')
            end as name_pinyin_key
        from latin_names
    ) as name_pinyin
{%- endmacro %}
