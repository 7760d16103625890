-- DWD CRM exposures: one row per exposure (latest version wins); `ds` = UTC date of sent_at.
-- exposure_key and customer_key are keyed hashes (spark_jobs.pii): the CRM ids embed the clear BuyerId.
create table if not exists dwd.campaign_exposure (
    exposure_key    text           not null,
    experiment      text           not null,
    variant         text           not null,
    customer_key    text           not null,
    marketplace_id  text           not null,
    channel         text,
    is_sent         boolean        not null,
    touch_cost      numeric(12, 4) not null,
    currency        char(3)        not null,
    sent_at         timestamptz    not null,
    ds              date           not null,
    primary key (ds, exposure_key)
);
create index if not exists campaign_exposure_customer_idx on dwd.campaign_exposure (customer_key, sent_at);
create index if not exists campaign_exposure_experiment_idx on dwd.campaign_exposure (experiment, variant);
