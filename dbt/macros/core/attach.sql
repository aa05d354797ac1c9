{#-
  Facts keyed by policy or mobile, attached to a customer (customer_360): the rows of `relation`
  from `since` (a date expression on `time_column`) with `customer_id` = the policy's owner
  (CTE policy_owner), or for a row without a policy the one customer whose golden mobile it is
  (CTE mobile_owner); rows that reach no customer are left out.
-#}
{% macro attach_by_policy_or_mobile(relation, time_column, since) -%}
    select f.*, coalesce(o.customer_id, mo.customer_id) as customer_id
    from {{ relation }} as f
    cross join as_of
    left join policy_owner as o on o.policy_no = f.policy_no
    left join mobile_owner as mo on mo.mobile = f.mobile and f.policy_no is null
    where cast(f.{{ time_column }} as date) > {{ since }}
      and coalesce(o.customer_id, mo.customer_id) is not null
{%- endmacro %}
