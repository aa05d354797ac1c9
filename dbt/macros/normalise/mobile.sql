{#-
  Mainland mobile numbers: 11 digits starting 1[3-9]. Delivered as `+86 138 0013 8000`,
  `0086-13800138000`, `138-0013-8000`, full-width digits, or missing. Two steps like IDs:
      {{ mobile_clean('mobile') }} as mobile            -- canonical 11 digits where possible
      {{ mobile_valid('mobile') }} as mobile_valid
      {{ mobile_is_junk('mobile') }} as mobile_is_junk
-#}

{# Width-fold, drop spaces, dashes, dots, brackets and `+`, then a leading 0086 / 86 country code. #}
{% macro mobile_clean(expr) -%}
    {%- set digits = regexp_replace_all(fold_width(expr), '[\\s+().-]', '') -%}
    nullif(case
        when {{ digits }} like '0086%' and length({{ digits }}) = 15 then substr({{ digits }}, 5)
        when {{ digits }} like '86%' and length({{ digits }}) = 13 then substr({{ digits }}, 3)
        else {{ digits }}
    end, '')
{%- endmacro %}

{# A well-formed mainland mobile number (after mobile_clean); null when missing. #}
{% macro mobile_valid(clean) -%}
    case when {{ clean }} is not null then coalesce({{ regexp_like(clean, '^1[3-9][0-9]{9}$') }}, false) end
{%- endmacro %}

{#
  Placeholder numbers typed to get past a form: the 8 subscriber digits all the same
  (13800000000, 13911111111) or a straight run (13812345678, 13987654321); only well-formed
  numbers are judged (a malformed one is mobile_valid = false). Null when missing.
#}
{% macro mobile_is_junk(clean) -%}
    case when {{ clean }} is not null then coalesce({{ regexp_like(clean, '^1[3-9][0-9]{9}$') }}, false) and (
        replace(substr({{ clean }}, 4), substr({{ clean }}, 4, 1), '') = ''
        or substr({{ clean }}, 4) in ('12345678', '87654321', '01234567')
    ) end
{%- endmacro %}
