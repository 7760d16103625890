{#
    GMV, orders and units in dws_marketplace_daily equal a direct aggregation of the order items,
    to the cent, for the days this run rebuilt (vars ds_start / ds_end; days outside the window keep
    the values of the run that built them). Returns the mismatching (marketplace, ds) rows.
#}
with

order_items as (

    select * from {{ ref('stg_orders__order_items') }}
    where {{ ds_window_predicate('ds') }}

),

expected as (

    select
        marketplace,
        ds,
        sum(item_amount) filter (where not is_cancelled) as gmv,
        count(distinct order_id) filter (where not is_cancelled) as orders,
        sum(quantity) filter (where not is_cancelled) as units

    from order_items

    group by marketplace, ds

),

actual as (

    select * from {{ ref('dws_marketplace_daily') }}
    where {{ ds_window_predicate('ds') }}

)

select
    coalesce(expected.marketplace, actual.marketplace) as marketplace,
    coalesce(expected.ds, actual.ds) as ds,
    expected.gmv as expected_gmv,
    actual.gmv as actual_gmv,
    expected.orders as expected_orders,
    actual.orders as actual_orders,
    expected.units as expected_units,
    actual.units as actual_units

from expected

full outer join actual
    on
        expected.marketplace = actual.marketplace
        and expected.ds = actual.ds

where
    coalesce(expected.gmv, 0) <> coalesce(actual.gmv, 0)
    or coalesce(expected.orders, 0) <> coalesce(actual.orders, 0)
    or coalesce(expected.units, 0) <> coalesce(actual.units, 0)
