-- DWD order items: one row per order item, latest version wins; partitioned by purchase date `ds`.
create table if not exists dwd.order_item (
    order_item_id    text           not null,
    order_id         text           not null,
    marketplace_id   text           not null,
    marketplace      text           not null,
    sales_channel    text           not null,
    customer_key     text           not null,
    buyer_email_masked text,
    asin             text           not null,
    seller_sku       text,
    quantity         integer        not null,
    unit_price       numeric(12, 2) not null,
    item_amount      numeric(14, 2) not null,
    currency         char(3)        not null,
    channel_status   text           not null,
    order_status     text           not null,
    purchased_at     timestamptz    not null,
    updated_at       timestamptz    not null,
    ds               date           not null,
    -- amounts in the reporting currency at the rate dated on or before the purchase day (dwd.fx_rate);
    -- nullable so rows written before the conversion existed, and hand-made fixtures, still load
    reporting_currency    char(3),
    fx_rate               numeric(20, 10),
    unit_price_reporting  numeric(18, 2),
    item_amount_reporting numeric(18, 2),
    primary key (ds, order_item_id)
);
-- warehouses created before the reporting columns: add them in place
alter table dwd.order_item add column if not exists reporting_currency char(3);
alter table dwd.order_item add column if not exists fx_rate numeric(20, 10);
alter table dwd.order_item add column if not exists unit_price_reporting numeric(18, 2);
alter table dwd.order_item add column if not exists item_amount_reporting numeric(18, 2);
create index if not exists order_item_customer_idx on dwd.order_item (customer_key, purchased_at);
