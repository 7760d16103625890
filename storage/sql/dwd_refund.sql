-- DWD refunds: one row per refunded order item per refund event (SP-API Finances RefundEventList), latest
-- served copy wins; `ds` = UTC date of posted_at. refund_id = '<amazon_order_id>|<posted_at ISO UTC>|
-- <order_adjustment_item_id>' (spark_jobs/refund.py). refunded_amount is the Principal given back (positive);
-- fee_amount the net fee adjustments as served (positive: credited back to the seller).
create table if not exists dwd.refund (
    amazon_order_id          text           not null,
    posted_at                timestamptz    not null,
    order_adjustment_item_id text           not null,
    order_item_id            text           not null,
    sales_channel            text           not null,
    asin                     text           not null,
    seller_sku               text,
    quantity                 integer        not null check (quantity >= 1),
    refund_id                text           not null,
    marketplace_id           text           not null,
    refunded_amount          numeric(14, 2) not null check (refunded_amount > 0),
    fee_amount               numeric(14, 2) not null,
    currency                 char(3)        not null,
    ds                       date           not null,
    primary key (ds, refund_id),
    unique (ds, amazon_order_id, posted_at, order_adjustment_item_id)
);
create index if not exists refund_order_item_idx on dwd.refund (order_item_id);
create index if not exists refund_asin_idx on dwd.refund (asin, marketplace_id, ds);
