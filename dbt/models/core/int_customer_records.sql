-- Every person-bearing record with the customer identity resolution gave it
-- (identity.customer_xref, written by the identity_resolution asset) and its attributes
-- (identity.int_person_records): the input of the golden record, households and the 360.
-- Built after the privacy requests are handled (erasures purge staging and identity first):
-- depends_on: {{ source('privacy', 'request_audit') }}
select
    x.customer_id,
    x.match_rule,
    x.match_probability,
    x.is_anchor,
    r.*,
    coalesce(r.birth_date_from_id, r.birth_date) as effective_birth_date,
    {{ regexp_like("coalesce(r.name, '')", '^[A-Za-z][A-Za-z .-]*$') }} as name_is_latin
from {{ source('identity', 'customer_xref') }} as x
inner join {{ ref('int_person_records') }} as r
    on r.source_system = x.source_system
    and r.source_record_id = x.source_record_id
