-- DWD shipments: one row per shipment, latest updated_at wins across the look-back window of ODS days;
-- `ds` = UTC date of created_at (label printed). shipment_status is the unified code of the carrier's
-- latest tag (spark_jobs/carrier_codes.py); carrier_status keeps the carrier's own tag.
-- delay_days = (delivered_at - promised_delivery_at) in days (negative: early), null until delivered;
-- is_late = delivered after the promise, null until delivered.
create table if not exists dwd.shipment (
    shipment_id          text           not null,
    tracking_number      text           not null,
    carrier              text           not null,
    order_id             text,
    marketplace_id       text           not null,
    shop_id              text,
    lane                 text,
    origin_port          text,
    destination_port     text,
    created_at           timestamptz    not null,
    updated_at           timestamptz    not null,
    carrier_status       text           not null,
    shipment_status      text           not null,
    is_delivered         boolean        not null,
    promised_delivery_at timestamptz,
    delivered_at         timestamptz,
    delay_days           numeric(8, 2),
    is_late              boolean,
    ds                   date           not null,
    primary key (ds, shipment_id)
);
create index if not exists shipment_order_idx on dwd.shipment (order_id) where order_id is not null;
create index if not exists shipment_lane_idx on dwd.shipment (lane, carrier, ds);
create index if not exists shipment_shop_idx on dwd.shipment (shop_id, ds);
