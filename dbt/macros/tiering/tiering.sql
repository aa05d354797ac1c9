{#- A rule's list column (`*`, or values separated by `|`) matches `value`. Portable SQL. -#}
{% macro tiering_matches(list_column, value) -%}
    ({{ list_column }} = '*' or {{ dbt.concat(["'|'", list_column, "'|'"]) }} like {{ dbt.concat(["'%|'", value, "'|%'"]) }})
{%- endmacro %}

{#- The scoring features of int_tiering_customer_features that seed tier_score_weights may
    weight (each a column in [0, 1]). Kept equal to the f_* columns of that model and its YAML,
    which the rule validator reads (tests/unit/test_tag_dictionary.py checks the three agree). -#}
{% macro tiering_features() -%}
    {{ return([
        'f_claim_frequency', 'f_claim_severity', 'f_fraud_suspected', 'f_occupation_hazard', 'f_smoker',
        'f_health_band_high', 'f_credit_weak', 'f_payment_failures',
        'f_tenure', 'f_addon_use', 'f_referrals', 'f_multi_channel', 'f_no_lapse',
        'f_income_high', 'f_aum_high', 'f_age_prime', 'f_quote_activity', 'f_open_lead', 'f_young_family',
        'f_recency', 'f_frequency', 'f_addon_depth',
    ]) }}
{%- endmacro %}
