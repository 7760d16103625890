{#
    Who should we follow up with, and how urgently? One row per customer and marketplace as of the
    latest business date in dws_customer_daily. Rules and formulas: ads_customer_value.yml.
#}
with

daily as (

    select * from {{ ref('dws_customer_daily') }}

),

as_of as (

    select max(ds) as as_of_ds from daily

),

customers as (

    select
        customer_key,
        marketplace,
        currency,
        min(ds) filter (where orders > 0) as first_order_ds,
        max(ds) filter (where orders > 0) as last_order_ds,
        count(*) filter (where orders > 0) as purchase_days,
        sum(orders) as orders,
        sum(units) as units,
        sum(gmv) as gmv,
        sum(cancelled_orders) as cancelled_orders

    from daily

    group by customer_key, marketplace, currency

    -- customers who never had a live order have nothing to score
    having sum(orders) > 0

),

cycles as (

    select
        customers.*,
        as_of.as_of_ds,
        as_of.as_of_ds - customers.last_order_ds as days_since_last_order,
        round(
            (customers.last_order_ds - customers.first_order_ds)::numeric
            / nullif(customers.purchase_days - 1, 0),
            2
        ) as personal_cycle,
        -- marketplace as the category proxy: every repeat gap of every customer in the marketplace,
        -- total days between consecutive purchase days / number of such gaps
        round(
            sum(customers.last_order_ds - customers.first_order_ds) over by_marketplace::numeric
            / nullif(sum(customers.purchase_days - 1) over by_marketplace, 0),
            2
        ) as category_cycle

    from customers

    cross join as_of

    window by_marketplace as (partition by customers.marketplace)

),

scored as (

    select
        cycles.*,
        {{ rfm_quintile('last_order_ds', 'marketplace') }} as recency_score,
        {{ rfm_quintile('orders', 'marketplace') }} as frequency_score,
        {{ rfm_quintile('gmv', 'marketplace') }} as monetary_score,
        round(
            greatest(
                {{ var('churn_cycle_multiplier') | float }} * personal_cycle,
                {{ var('churn_cycle_multiplier') | float }} * category_cycle,
                {{ var('churn_default_threshold_days') | float }}
            ),
            2
        ) as churn_threshold

    from cycles

),

final as (

    select
        customer_key,
        marketplace,
        currency,
        as_of_ds,
        first_order_ds,
        last_order_ds,
        orders::bigint as orders,
        units::bigint as units,
        gmv::numeric(14, 2) as gmv,
        cancelled_orders::bigint as cancelled_orders,
        round(gmv / orders, 2)::numeric(14, 2) as aov,
        days_since_last_order::integer as days_since_last_order,
        recency_score,
        frequency_score,
        monetary_score,
        ({{ rfm_segment('recency_score', 'frequency_score') }})::text as rfm_segment,
        (
            case
                when monetary_score >= {{ var('value_tier_high_min_monetary_score') | int }} then 'high'
                when monetary_score >= {{ var('value_tier_medium_min_monetary_score') | int }} then 'medium'
                else 'low'
            end
        )::text as value_tier,
        personal_cycle::numeric(8, 2) as personal_repurchase_cycle_days,
        category_cycle::numeric(8, 2) as category_repurchase_cycle_days,
        churn_threshold::numeric(8, 2) as churn_threshold_days,
        days_since_last_order > churn_threshold as is_churn_warning,
        round(
            100 * (frequency_score + monetary_score) / 10.0
            * least(days_since_last_order / churn_threshold, 1),
            2
        )::numeric(5, 2) as follow_up_priority_score

    from scored

)

select * from final
