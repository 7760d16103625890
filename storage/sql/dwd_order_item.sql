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
    primary key (ds, order_item_id)
);
create index if not exists order_item_customer_idx on dwd.order_item (customer_key, purchased_at);
