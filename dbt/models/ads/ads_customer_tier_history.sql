{#
    Type-2 history of each customer's value tier and RFM segment, keyed by business date instead of
    the build's wall-clock time (it replaces the dbt snapshot snp_customer_tiers, which added a version
    whenever a rerun of a past day rebuilt ads_customer_value). A version starts on the business date
    `valid_from` ads_customer_value described when the tier or segment changed.

    Replay-safe: each build recomputes exactly the versions of its own as-of date. The pre-hook removes
    versions from that date on, and the model inserts a version for every customer whose tier or
    segment differs from their latest version before that date. Rerunning any day (which rebuilds
    ads_customer_value as of the newest business date in the warehouse) therefore writes back the same
    rows, and the history only moves forward when the warehouse does.
#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        indexes=[{'columns': ['customer_key', 'marketplace', 'valid_from'], 'unique': true}],
        pre_hook="{% if is_incremental() %}delete from {{ this }} where valid_from >= (select max(as_of_ds) from {{ ref('ads_customer_value') }}){% endif %}",
    )
}}

with

current_tiers as (

    select customer_key, marketplace, value_tier, rfm_segment, as_of_ds
    from {{ ref('ads_customer_value') }}

),

{% if is_incremental() %}
previous as (

    -- each customer's latest version before this build's as-of date (the pre-hook removed the later ones)
    select distinct on (customer_key, marketplace)
        customer_key,
        marketplace,
        value_tier,
        rfm_segment

    from {{ this }}

    order by customer_key, marketplace, valid_from desc

),
{% endif %}

changed as (

    select
        current_tiers.customer_key,
        current_tiers.marketplace,
        current_tiers.value_tier,
        current_tiers.rfm_segment,
        current_tiers.as_of_ds as valid_from

    from current_tiers

    {% if is_incremental() %}
    left join previous
        on
            current_tiers.customer_key = previous.customer_key
            and current_tiers.marketplace = previous.marketplace

    where
        previous.customer_key is null
        or previous.value_tier is distinct from current_tiers.value_tier
        or previous.rfm_segment is distinct from current_tiers.rfm_segment
    {% endif %}

)

select
    customer_key::text as customer_key,
    marketplace::text as marketplace,
    value_tier::text as value_tier,
    rfm_segment::text as rfm_segment,
    valid_from::date as valid_from

from changed
