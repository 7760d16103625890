-- DWD catalog items as a slowly changing dimension (type 2): one row per version of a listing
-- (asin, marketplace_id). valid_from = the version's lastUpdatedDate; valid_to = the next version's
-- valid_from (null while the version is current); is_current = (valid_to is null). Validity is
-- contiguous and half-open: the listing as it was at instant t is the row with
--   valid_from <= t and (valid_to is null or t < valid_to)
-- and "as it looked on day D" (end of day) uses t = D + 1 day (exclusive). `ds` = UTC date of valid_from.
-- No unique index on current rows: partitions load one transaction each, so for a moment during a load
-- an old partition's version may still be open.
create table if not exists dwd.catalog_item (
    asin               text           not null,
    marketplace_id     text           not null,
    version            integer,
    valid_from         timestamptz    not null,
    valid_to           timestamptz,
    is_current         boolean        not null,
    item_name          text           not null,
    brand              text,
    classification_id  text,
    category           text,
    category_path      text,
    release_date       date,
    list_price         numeric(12, 2),
    currency           char(3),
    image_count        integer,
    bullet_point_count integer,
    has_aplus_content  boolean,
    title_length       integer,
    ds                 date           not null,
    -- landed unit cost, fulfillment channel and sample flag of the version (catalog schema v2)
    unit_cost          numeric(12, 2),
    unit_cost_currency char(3),
    fulfillment_channel text,
    is_sample          boolean,
    primary key (ds, asin, marketplace_id),
    check (valid_to is null or valid_to > valid_from),
    check (is_current = (valid_to is null)),
    check (unit_cost is null or unit_cost >= 0),
    check (fulfillment_channel is null or fulfillment_channel in ('fba', 'fbm', 'drop_ship'))
);
-- warehouses created before the cost columns: add them in place
alter table dwd.catalog_item add column if not exists unit_cost numeric(12, 2);
alter table dwd.catalog_item add column if not exists unit_cost_currency char(3);
alter table dwd.catalog_item add column if not exists fulfillment_channel text;
alter table dwd.catalog_item add column if not exists is_sample boolean;
create index if not exists catalog_item_listing_idx on dwd.catalog_item (asin, marketplace_id, valid_from);
create index if not exists catalog_item_current_idx on dwd.catalog_item (asin, marketplace_id) where is_current;
