-- DWD ad campaign hours: one row per campaign and UTC hour (latest version wins); `ds` = UTC date of the hour.
create table if not exists dwd.ad_campaign_hourly (
    campaign_id     text           not null,
    stat_time_hour  timestamptz    not null,
    campaign_name   text,
    advertiser_id   text           not null,
    marketplace_id  text           not null,
    asin            text,          -- advertised product (ads schema v2); null on days landed before it
    currency        char(3)        not null,
    spend           numeric(14, 2) not null,
    impressions     bigint         not null,
    clicks          bigint         not null,
    conversions     bigint         not null,
    gmv             numeric(14, 2) not null,
    daily_budget    numeric(14, 2),
    ds              date           not null,
    primary key (ds, campaign_id, stat_time_hour)
);
-- warehouses created before the advertised ASIN: add it in place
alter table dwd.ad_campaign_hourly add column if not exists asin text;
create index if not exists ad_campaign_hourly_advertiser_idx on dwd.ad_campaign_hourly (advertiser_id, ds);
