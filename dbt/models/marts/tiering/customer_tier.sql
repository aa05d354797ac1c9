{{ config(materialized='table', schema='marts', tags=['tiering']) }}
{#-
  The current tier of every customer, recomputed from scratch on every run (the periodic full
  re-evaluation; events of the day are in the same data, so an event re-evaluates its customer
  the same day). Rules are data (seeds in seeds/tiering, validated by dagster_project/tiering
  before any run): a customer is judged by the rules of its main product line, else the `*` rules.
    value tier   weighted annual premium / book average, thresholds per line (tier_value_rules);
                 high_value needs a premium that is not declining; basic with a high growth
                 grade is potential; pyramid layer from tier_settings
    scores       risk, loyalty, growth, rfm: weighted mean of features f_* (tier_score_weights),
                 graded by tier_grade_rules
    CLV          per in-force policy: premium x margin x sum_{t=1..H} q^t, q = (1 - lapse)(1 - mortality) / (1 + discount)
    service tier the one tier_service_rules row matching (value tier, risk grade, loyalty grade),
                 then an approved manual override (tier_overrides) on top
-#}
{%- set feature_names = tiering_features() %}

with features as (
    select * from {{ ref('int_tiering_customer_features') }}
),

settings as (
    select
        max(case when setting = 'decline_tolerance' then cast(value as double) end) as decline_tolerance,
        max(case when setting = 'potential_growth_grade' then value end) as potential_growth_grade,
        max(case when setting = 'vip_tenure_years' then cast(value as double) end) as vip_tenure_years,
        max(case when setting = 'pyramid_top' then value end) as pyramid_top,
        max(case when setting = 'pyramid_middle' then value end) as pyramid_middle,
        max(case when setting = 'pyramid_base' then value end) as pyramid_base
    from {{ ref('tier_settings') }}
),

book as (
    select avg(weighted_premium) as book_average_premium
    from features
    where weighted_premium > 0
),

-- the rules of each customer: its main product line's rows where that line has rows (per
-- dimension for scores and grades), else the '*' rows
rule_line as (
    select f.customer_id, coalesce(vl.product_line, '*') as value_rule_line
    from features as f
    left join (select distinct product_line from {{ ref('tier_value_rules') }}) as vl on vl.product_line = f.main_product_line
),

{%- for cte, seed in [('score_line', 'tier_score_weights'), ('grade_line', 'tier_grade_rules')] %}

{{ cte }} as (
    select f.customer_id, d.dimension, coalesce(x.product_line, '*') as rule_line
    from features as f
    cross join (select distinct dimension from {{ ref(seed) }}) as d
    left join (select distinct product_line, dimension from {{ ref(seed) }}) as x
        on x.product_line = f.main_product_line and x.dimension = d.dimension
),
{%- endfor %}

feature_values as (
    {%- for name in feature_names %}
    select customer_id, '{{ name }}' as feature, {{ name }} as feature_value from features
    {{ 'union all' if not loop.last }}
    {%- endfor %}
    {%- if not feature_names %}
    select customer_id, cast(null as {{ dbt.type_string() }}) as feature, cast(null as double) as feature_value from features where 1 = 0
    {%- endif %}
),

scores as (
    select
        v.customer_id,
        w.dimension,
        -- rounded before grading: a float sum depends on the order rows are added (which differs
        -- between engines and runs), and weights summing to a grade boundary (0.25 + 0.15 = 0.4)
        -- must land on the same side of it every time
        round(sum(w.weight * v.feature_value) / sum(w.weight), 6) as score
    from feature_values as v
    inner join score_line as sl on sl.customer_id = v.customer_id
    inner join {{ ref('tier_score_weights') }} as w
        on w.product_line = sl.rule_line and w.dimension = sl.dimension and w.feature = v.feature
    group by v.customer_id, w.dimension
),

grades as (
    select s.customer_id, s.dimension, s.score, g.grade
    from scores as s
    inner join grade_line as gl on gl.customer_id = s.customer_id and gl.dimension = s.dimension
    left join {{ ref('tier_grade_rules') }} as g
        on g.product_line = gl.rule_line and g.dimension = s.dimension
        and s.score >= g.min_score and (g.max_score is null or s.score < g.max_score)
),

graded as (
    select
        customer_id,
        {%- for d in ['risk', 'loyalty', 'growth', 'rfm'] %}
        max(case when dimension = '{{ d }}' then score end) as {{ d }}_score,
        max(case when dimension = '{{ d }}' then grade end) as {{ d }}_grade{{ ',' if not loop.last }}
        {%- endfor %}
    from grades
    group by customer_id
),

clv as (
    select
        p.customer_id,
        sum(p.premium_annual * l.margin_rate
            * (q.q * (1 - power(q.q, l.horizon_years)) / (1 - q.q))) as clv
    from {{ ref('int_tiering_customer_policies') }} as p
    inner join {{ ref('tier_product_lines') }} as l on l.product_line = p.product_line
    inner join (
        select product_line, (1 - lapse_rate) * (1 - mortality_rate) / (1 + discount_rate) as q
        from {{ ref('tier_product_lines') }}
    ) as q on q.product_line = p.product_line
    where p.status = 'in_force'
    group by p.customer_id
),

valued as (
    select
        f.*,
        b.book_average_premium,
        case when b.book_average_premium > 0 then f.weighted_premium / b.book_average_premium else 0 end as value_ratio,
        case
            when f.premium_12m_ago > 0 and f.annual_premium_in_force < f.premium_12m_ago * (1 - s.decline_tolerance) then 'declining'
            when f.annual_premium_in_force > f.premium_12m_ago * (1 + s.decline_tolerance) then 'growing'
            else 'stable'
        end as premium_trend,
        rl.value_rule_line
    from features as f
    cross join book as b
    cross join settings as s
    inner join rule_line as rl on rl.customer_id = f.customer_id
),

value_tiered as (
    select
        v.*,
        r.value_tier as ratio_tier,
        g.risk_score, g.risk_grade, g.loyalty_score, g.loyalty_grade,
        g.growth_score, g.growth_grade, g.rfm_score, g.rfm_grade,
        case
            when r.value_tier = 'high_value' and v.premium_trend = 'declining' then 'mid'
            when r.value_tier = 'basic' and g.growth_grade = s.potential_growth_grade then 'potential'
            else r.value_tier
        end as value_tier,
        coalesce(v.tenure_years, 0) > s.vip_tenure_years as vip_maintenance
    from valued as v
    cross join settings as s
    left join {{ ref('tier_value_rules') }} as r
        on r.product_line = v.value_rule_line
        and v.value_ratio >= r.min_ratio and (r.max_ratio is null or v.value_ratio < r.max_ratio)
    left join graded as g on g.customer_id = v.customer_id
),

serviced as (
    select
        t.*,
        sr.rule_id as service_rule_id,
        sr.service_tier as computed_service_tier
    from value_tiered as t
    left join {{ ref('tier_service_rules') }} as sr
        on {{ tiering_matches('sr.value_tiers', 't.value_tier') }}
        and {{ tiering_matches('sr.risk_grades', 't.risk_grade') }}
        and {{ tiering_matches('sr.loyalty_grades', 't.loyalty_grade') }}
),

overrides as (
    select customer_id, override_id, service_tier
    from {{ ref('tier_overrides') }}
    where decision = 'applied'
)

select
    cast(t.customer_id as {{ dbt.type_string() }}) as customer_id,
    cast(t.as_of_date as date) as as_of_date,
    cast(t.party_type as {{ dbt.type_string() }}) as party_type,
    cast(t.main_product_line as {{ dbt.type_string() }}) as main_product_line,
    {{ to_decimal('t.annual_premium_in_force', 18, 2) }} as annual_premium_in_force,
    {{ to_decimal('t.weighted_premium', 18, 2) }} as weighted_premium,
    {{ to_decimal('t.book_average_premium', 18, 2) }} as book_average_premium,
    {{ to_decimal('t.value_ratio', 12, 4) }} as value_ratio,
    {{ to_decimal('t.premium_12m_ago', 18, 2) }} as premium_12m_ago,
    cast(t.premium_trend as {{ dbt.type_string() }}) as premium_trend,
    cast(t.value_tier as {{ dbt.type_string() }}) as value_tier,
    cast(case
        when {{ tiering_matches('s.pyramid_top', 't.value_tier') }} then 'top'
        when {{ tiering_matches('s.pyramid_middle', 't.value_tier') }} then 'middle'
        else 'base'
    end as {{ dbt.type_string() }}) as pyramid_layer,
    cast(t.days_since_last_purchase as integer) as rfm_recency_days,
    cast(t.policies_in_force as integer) as rfm_policies_held,
    cast(t.benefit_uses_12m as integer) as rfm_addon_uses_12m,
    {{ to_decimal('t.rfm_score', 6, 4) }} as rfm_score,
    cast(t.rfm_grade as {{ dbt.type_string() }}) as rfm_grade,
    {{ to_decimal('coalesce(c.clv, 0)', 18, 2) }} as clv,
    {{ to_decimal('t.risk_score', 6, 4) }} as risk_score,
    cast(t.risk_grade as {{ dbt.type_string() }}) as risk_grade,
    {{ to_decimal('t.loyalty_score', 6, 4) }} as loyalty_score,
    cast(t.loyalty_grade as {{ dbt.type_string() }}) as loyalty_grade,
    {{ to_decimal('t.tenure_years', 6, 2) }} as tenure_years,
    cast(t.vip_maintenance as boolean) as vip_maintenance,
    cast(t.referrals_won as integer) as referrals_won,
    cast(t.interaction_channels as integer) as interaction_channels,
    {{ to_decimal('t.growth_score', 6, 4) }} as growth_score,
    cast(t.growth_grade as {{ dbt.type_string() }}) as growth_grade,
    cast(t.computed_service_tier as {{ dbt.type_string() }}) as computed_service_tier,
    cast(t.service_rule_id as {{ dbt.type_string() }}) as service_rule_id,
    cast(o.override_id as {{ dbt.type_string() }}) as override_id,
    cast(coalesce(o.service_tier, t.computed_service_tier) as {{ dbt.type_string() }}) as service_tier,
    cast(t.account_manager as {{ dbt.type_string() }}) as account_manager
from serviced as t
cross join settings as s
left join clv as c on c.customer_id = t.customer_id
left join overrides as o on o.customer_id = t.customer_id
