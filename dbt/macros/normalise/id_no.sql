{#-
  Identity numbers (SOURCES.md "Identifiers as they really occur").

  Resident ID (GB 11643, id_type 01): 17 digits + ISO 7064 MOD 11-2 check character.
  Unified social credit code (GB 32100, id_type 07): 17 chars + its own MOD 31 check character.
  Use in two steps (the clean value is referenced many times; keep it a column):
      {{ id_no_clean('holder_id_no') }}                           as holder_id_no_clean   -- step 1
      {{ id_no_canonical('holder_id_no_clean', 'holder_id_type') }} as holder_id_no         -- step 2
      {{ id_no_kind('holder_id_no_clean', 'holder_id_type') }}      as holder_id_no_kind
      {{ id_no_valid('holder_id_no_clean', 'holder_id_type') }}     as holder_id_no_valid
  Without an id_type column every value is treated as a resident ID.
-#}

{# Trim, remove whitespace and dashes, full-width -> ASCII, uppercase (x -> X); '' -> null. #}
{% macro id_no_clean(expr) -%}
    nullif(upper({{ regexp_replace_all(fold_width(expr), '[\\s-]', '') }}), '')
{%- endmacro %}

{# The MOD 11-2 check character of 17 digits (null unless 17 digits). #}
{% macro id_check_char(expr17) -%}
    {%- set weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] -%}
    case when {{ regexp_like(expr17, '^[0-9]{17}$') }} then substr('10X98765432', cast(mod(
        {%- for w in weights %} cast(substr({{ expr17 }}, {{ loop.index }}, 1) as integer) * {{ w }}{{ ' +' if not loop.last }}{% endfor %}
    , 11) as integer) + 1, 1) end
{%- endmacro %}

{# GB 32100 check character of the first 17 characters (null unless they are in the alphabet). #}
{% macro uscc_check_char(expr17) -%}
    {%- set alphabet = '0123456789ABCDEFGHJKLMNPQRTUWXY' -%}
    {%- set weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28] -%}
    case when {{ regexp_like(expr17, '^[0-9A-HJ-NPQRTUWXY]{17}$') }} then substr('{{ alphabet }}', cast(mod(31 - mod(
        {%- for w in weights %} ({{ dbt.position("substr(" ~ expr17 ~ ", " ~ loop.index ~ ", 1)", "'" ~ alphabet ~ "'") }} - 1) * {{ w }}{{ ' +' if not loop.last }}{% endfor %}
    , 31), 31) as integer) + 1, 1) end
{%- endmacro %}

{# 15-digit legacy ID -> 18: insert the century `19` after the area code, append the check char. #}
{% macro id_upgrade_15(clean) -%}
    {%- set body = "substr(" ~ clean ~ ", 1, 6) || '19' || substr(" ~ clean ~ ", 7, 9)" -%}
    {{ body }} || {{ id_check_char(body) }}
{%- endmacro %}

{# Birth date held in an 18-char resident ID when it is plausible (1900-01-01 .. today), else null. #}
{% macro id_birth_date(id18) -%}
    {{ plausible_birth_date("substr(" ~ id18 ~ ", 7, 8)") }}
{%- endmacro %}

{# A YYYYMMDD text as a date when it is one and plausible (1900-01-01 .. today), else null. #}
{% macro plausible_birth_date(yyyymmdd) -%}
    {%- set d = parse_date(yyyymmdd, '%Y%m%d') -%}
    case when {{ d }} between cast('1900-01-01' as date) and cast({{ dbt.current_timestamp() }} as date) then {{ d }} end
{%- endmacro %}

{% macro _is_enterprise(id_type) -%}
    {%- if id_type -%}coalesce({{ id_type }} = '07', false){%- else -%}false{%- endif -%}
{%- endmacro %}
{% macro _is_resident(id_type) -%}
    {%- if id_type -%}coalesce({{ id_type }} = '01', true){%- else -%}true{%- endif -%}
{%- endmacro %}

{# Canonical form: 18-char uppercase; 15-digit resident IDs upgraded; other values as cleaned. #}
{% macro id_no_canonical(clean, id_type=none) -%}
    case
        when {{ _is_resident(id_type) }} and {{ regexp_like(clean, '^[0-9]{15}$') }} then {{ id_upgrade_15(clean) }}
        else {{ clean }}
    end
{%- endmacro %}

{#
  valid | upgraded_15 | bad_check_digit | malformed | missing, by the id type's own rules;
  `unchecked` for passports and HK/Macau/Taiwan permits (no check character to verify).
#}
{% macro id_no_kind(clean, id_type=none) -%}
    case
        when {{ clean }} is null then 'missing'
        when {{ _is_enterprise(id_type) }} then
            case
                when not {{ regexp_like(clean, '^[0-9A-HJ-NPQRTUWXY]{18}$') }} then 'malformed'
                when {{ uscc_check_char("substr(" ~ clean ~ ", 1, 17)") }} = substr({{ clean }}, 18, 1) then 'valid'
                else 'bad_check_digit'
            end
        when not {{ _is_resident(id_type) }} then 'unchecked'
        when {{ regexp_like(clean, '^[0-9]{15}$') }} then
            {#- the upgraded ID's birth date is 19 + digits 7-12 (the check character plays no part) #}
            case when {{ plausible_birth_date("'19' || substr(" ~ clean ~ ", 7, 6)") }} is not null then 'upgraded_15' else 'malformed' end
        when not {{ regexp_like(clean, '^[0-9]{17}[0-9X]$') }} then 'malformed'
        when {{ id_birth_date(clean) }} is null then 'malformed'
        when {{ id_check_char("substr(" ~ clean ~ ", 1, 17)") }} = substr({{ clean }}, 18, 1) then 'valid'
        else 'bad_check_digit'
    end
{%- endmacro %}

{# True when the ID passes its type's checks (valid or upgraded 15-digit); null when unchecked or missing. #}
{% macro id_no_valid(clean, id_type=none) -%}
    {%- set kind = id_no_kind(clean, id_type) -%}
    case ({{ kind }})
        when 'valid' then true
        when 'upgraded_15' then true
        when 'bad_check_digit' then false
        when 'malformed' then false
    end
{%- endmacro %}
