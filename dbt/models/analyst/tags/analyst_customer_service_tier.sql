{{ config(materialized='view', schema='analyst', alias='customer_service_tier', tags=['tiering', 'analyst']) }}
-- Analyst-facing tiering: the internal columns of marts.customer_tier (service tier, pyramid
-- layer, loyalty); value, risk, growth, CLV and premium figures stay in marts.
select cast({{ pseudonym_token('customer_id', 'customer') }} as {{ dbt.type_string() }}) as customer_token,
       as_of_date, party_type, main_product_line, pyramid_layer, loyalty_grade,
       vip_maintenance, service_tier, account_manager
from {{ ref('customer_tier') }}
