-- DWD shop health: one row per shop and snapshot day (latest version wins); partitioned by `ds` = snapshot_date.
create table if not exists dwd.shop_health_daily (
    shop_id              text             not null,
    snapshot_date        date             not null,
    shop_name            text,
    marketplace_id       text             not null,
    sps_score            double precision not null,
    late_dispatch_rate   double precision not null,
    cancellation_rate    double precision not null,
    negative_review_rate double precision not null,
    orders_7d            bigint,
    ds                   date             not null,
    primary key (ds, shop_id, snapshot_date)
);
