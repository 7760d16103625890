-- DWD product reviews: one row per review (latest version wins); `ds` = UTC date of posted_at.
-- amazon_order_id links a verified review to its order when the marketplace knows it.
create table if not exists dwd.review (
    review_id        text        not null,
    asin             text        not null,
    marketplace_id   text        not null,
    rating           integer     not null check (rating between 1 and 5),
    title            text,
    text             text,
    language         text        check (language in ('en', 'zh')),
    verified         boolean     not null,
    amazon_order_id  text,
    posted_at        timestamptz not null,
    helpful_votes    integer,
    ds               date        not null,
    primary key (ds, review_id)
);
create index if not exists review_asin_idx on dwd.review (asin, marketplace_id, posted_at);
create index if not exists review_order_idx on dwd.review (amazon_order_id) where amazon_order_id is not null;
