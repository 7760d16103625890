-- DWD ASIN daily snapshots: one row per ASIN, marketplace and snapshot day (latest version wins);
-- partitioned by `ds` = snapshot_date. price is in the marketplace's currency (null with currency when unlisted).
create table if not exists dwd.asin_daily_snapshot (
    asin            text             not null,
    marketplace_id  text             not null,
    snapshot_date   date             not null,
    bsr             integer,
    bsr_category    text,
    category_rank   integer,
    category        text,
    price           numeric(12, 2),
    currency        char(3),
    rating          double precision,
    review_count    integer          not null,
    in_stock        boolean          not null,
    buy_box_share   double precision,
    sessions        integer          not null,
    page_views      integer          not null,
    ds              date             not null,
    primary key (ds, asin, marketplace_id, snapshot_date)
);
create index if not exists asin_daily_snapshot_asin_idx on dwd.asin_daily_snapshot (asin, marketplace_id, ds);
