{{ config(materialized='table', schema='marts', tags=['churn']) }}
{#-
  Marketing consent per customer and channel (marketing consents): the latest record of each
  (mobile, channel) of the customer's golden mobile (a number two customers share reaches
  neither). A channel without any record has no consent: retention actions use only opt_in.
-#}
with mobile_owner as (
    {{ churn_mobile_owner() }}
),

latest as (
    select mobile, channel, consent, recorded_at
    from (
        select mobile, channel, consent, recorded_at,
               row_number() over (partition by mobile, channel
                                  order by recorded_at desc nulls last, _business_date desc nulls last,
                                           _row_number desc nulls last) as rn
        from {{ ref('stg_marketing__consents') }}
        where mobile_valid and not mobile_is_junk
    ) as r
    where rn = 1
)

select
    cast(mo.customer_id as {{ dbt.type_string() }}) as customer_id,
    cast(l.channel as {{ dbt.type_string() }}) as channel,
    cast(l.consent as {{ dbt.type_string() }}) as consent,
    cast(l.recorded_at as timestamp) as recorded_at
from latest as l
inner join mobile_owner as mo on mo.mobile = l.mobile
