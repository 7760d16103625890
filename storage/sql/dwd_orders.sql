-- DWD orders: one header row per order, aggregated from its DWD order items (spark_jobs/order_header.py);
-- partitioned by purchase date `ds`. Named `orders` because `order` is an SQL reserved word.
-- order_id carries the source's id prefix (`olist:…`), so it is unique within a day across sources.
create table if not exists dwd.orders (
    order_id               text           not null,
    source                 text           not null,
    marketplace_id         text           not null,
    marketplace            text           not null,
    sales_channel          text           not null,
    customer_key           text           not null,
    buyer_email_masked     text,
    order_status           text           not null,
    channel_status         text           not null,
    is_cancelled           boolean        not null,
    purchased_at           timestamptz    not null,
    updated_at             timestamptz    not null,
    item_count             integer        not null check (item_count >= 1),
    units                  integer        not null,
    order_amount           numeric(18, 2) not null,
    currency               char(3)        not null,
    -- the sum of the items' reporting amounts (dwd.order_item), so both tables total the same; nullable
    -- like there, for items written before the conversion existed
    reporting_currency     char(3),
    fx_rate                numeric(20, 10),
    order_amount_reporting numeric(20, 2),
    ds                     date           not null,
    primary key (ds, order_id)
);
create index if not exists orders_customer_idx on dwd.orders (customer_key, purchased_at);
create index if not exists orders_source_idx on dwd.orders (source, ds);
create index if not exists orders_status_idx on dwd.orders (order_status, ds);
