-- DWD carrier tracking events: one row per event (events land once); `ds` = UTC date of event_at.
-- event_code is the unified carrier event code (spark_jobs/carrier_codes.py); carrier_tag/carrier_subtag
-- keep the carrier's own vocabulary (AfterShip/17track style) for audit.
create table if not exists dwd.tracking_event (
    event_id         text        not null,
    shipment_id      text        not null,
    tracking_number  text        not null,
    carrier          text        not null,
    event_at         timestamptz not null,
    carrier_tag      text        not null,
    carrier_subtag   text,
    event_code       text        not null,
    message          text,
    location         text,
    ds               date        not null,
    primary key (ds, event_id)
);
create index if not exists tracking_event_shipment_idx on dwd.tracking_event (shipment_id, event_at);
create index if not exists tracking_event_code_idx on dwd.tracking_event (event_code, ds);
