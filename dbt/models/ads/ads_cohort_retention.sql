{#
    Do customers come back? Monthly first-purchase cohorts per marketplace x months since the first
    purchase, from month 0 up to the month of the latest business date (months without a returning
    customer are zeros, not gaps).
#}
with

daily as (

    select * from {{ ref('dws_customer_daily') }}
    where orders > 0

),

as_of as (

    select date_trunc('month', max(ds))::date as as_of_month from {{ ref('dws_customer_daily') }}

),

customer_months as (

    select distinct
        customer_key,
        marketplace,
        date_trunc('month', ds)::date as activity_month

    from daily

),

cohorts as (

    select
        customer_key,
        marketplace,
        min(activity_month) as cohort_month

    from customer_months

    group by customer_key, marketplace

),

cohort_sizes as (

    select
        marketplace,
        cohort_month,
        count(*) as cohort_size

    from cohorts

    group by marketplace, cohort_month

),

activity as (

    select
        cohorts.marketplace,
        cohorts.cohort_month,
        (
            12 * (extract(year from customer_months.activity_month) - extract(year from cohorts.cohort_month))
            + extract(month from customer_months.activity_month) - extract(month from cohorts.cohort_month)
        )::integer as months_since_first_purchase,
        count(*) as active_customers

    from customer_months

    inner join cohorts
        on
            customer_months.customer_key = cohorts.customer_key
            and customer_months.marketplace = cohorts.marketplace

    group by 1, 2, 3

),

grid as (

    select
        cohort_sizes.marketplace,
        cohort_sizes.cohort_month,
        cohort_sizes.cohort_size,
        month_offset as months_since_first_purchase

    from cohort_sizes

    cross join as_of

    cross join lateral generate_series(
        0,
        (
            12 * (extract(year from as_of.as_of_month) - extract(year from cohort_sizes.cohort_month))
            + extract(month from as_of.as_of_month) - extract(month from cohort_sizes.cohort_month)
        )::integer
    ) as month_offset

),

final as (

    select
        grid.marketplace,
        grid.cohort_month,
        grid.months_since_first_purchase::integer as months_since_first_purchase,
        (grid.cohort_month + make_interval(months => grid.months_since_first_purchase))::date as activity_month,
        grid.cohort_size::bigint as cohort_size,
        coalesce(activity.active_customers, 0)::bigint as active_customers,
        round(coalesce(activity.active_customers, 0)::numeric / grid.cohort_size, 4)::numeric(6, 4)
            as retention_rate

    from grid

    left join activity
        on
            grid.marketplace = activity.marketplace
            and grid.cohort_month = activity.cohort_month
            and grid.months_since_first_purchase = activity.months_since_first_purchase

)

select * from final
