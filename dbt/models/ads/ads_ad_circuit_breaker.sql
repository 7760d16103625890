{#
    Which ad campaigns are burning money right now? One row per campaign and UTC hour: ROAS over the
    trailing window with a 95% interval, spend velocity against the same hours on previous days, and
    should_pause. Rules and thresholds: ads_ad_circuit_breaker.yml.
#}
{%- set window_hours = var('circuit_breaker_window_hours') | int -%}
{%- set baseline_days = var('circuit_breaker_baseline_days') | int -%}
{%- set z = 1.96 -%}

with

hours as (

    select * from {{ ref('stg_ads__ad_campaign_hours') }}

),

windowed as (

    -- the trailing window ending with this hour; range (not rows) so a missing hour is not skipped over
    select
        hours.*,
        sum(spend) over trailing_window as window_spend,
        sum(gmv) over trailing_window as window_gmv,
        sum(conversions) over trailing_window as window_conversions

    from hours

    window trailing_window as (
        partition by campaign_id
        order by hour_start_at
        range between interval '{{ window_hours - 1 }} hours' preceding and current row
    )

),

baselines as (

    -- the same window at the same hour of day on each of the previous baseline days (the frame stops
    -- an hour back, so the row's own day is never its baseline)
    select
        campaign_id,
        hour_start_at,
        count(*) over same_hour_before as baseline_days,
        avg(window_spend) over same_hour_before as baseline_window_spend,
        sum(window_gmv) over same_hour_before
            / nullif(sum(window_conversions) over same_hour_before, 0) as baseline_value_per_conversion

    from windowed

    window same_hour_before as (
        partition by campaign_id, hour_of_day
        order by hour_start_at
        range between interval '{{ baseline_days }} days' preceding and interval '1 hour' preceding
    )

),

scored as (

    select
        windowed.*,
        baselines.baseline_days,
        baselines.baseline_window_spend,
        windowed.window_gmv / nullif(windowed.window_spend, 0) as roas,
        windowed.window_spend / nullif(baselines.baseline_window_spend, 0) as spend_velocity,
        -- value of one conversion: this window's when it has any, else the baseline's
        coalesce(
            windowed.window_gmv / nullif(windowed.window_conversions, 0),
            baselines.baseline_value_per_conversion
        ) as value_per_conversion,
        -- Poisson score interval on the conversion count
        windowed.window_conversions + {{ z * z / 2 }}
            - {{ z }} * sqrt(windowed.window_conversions + {{ z * z / 4 }}) as conversions_low,
        windowed.window_conversions + {{ z * z / 2 }}
            + {{ z }} * sqrt(windowed.window_conversions + {{ z * z / 4 }}) as conversions_high

    from windowed

    inner join baselines
        on
            windowed.campaign_id = baselines.campaign_id
            and windowed.hour_start_at = baselines.hour_start_at

),

flagged as (

    select
        scored.*,
        coalesce(
            baseline_days >= {{ var('circuit_breaker_min_baseline_days') }}
            and roas < {{ var('circuit_breaker_roas_floor') }}
            and spend_velocity > {{ var('circuit_breaker_velocity_ceiling') }},
            false
        ) as should_pause

    from scored

),

final as (

    select
        campaign_id,
        hour_start_at,
        ds,
        hour_of_day,
        campaign_name,
        shop_id,
        marketplace_id,
        currency,
        spend::numeric(14, 2) as spend,
        gmv::numeric(14, 2) as gmv,
        conversions::bigint as conversions,
        window_spend::numeric(14, 2) as window_spend,
        window_gmv::numeric(14, 2) as window_gmv,
        window_conversions::bigint as window_conversions,
        round(roas, 4)::numeric(12, 4) as roas,
        round(greatest(conversions_low, 0) * value_per_conversion / nullif(window_spend, 0), 4)::numeric(12, 4) as roas_ci_low,
        round(conversions_high * value_per_conversion / nullif(window_spend, 0), 4)::numeric(12, 4) as roas_ci_high,
        baseline_days::integer as baseline_days,
        round(baseline_window_spend, 2)::numeric(14, 2) as baseline_window_spend,
        round(spend_velocity, 4)::numeric(12, 4) as spend_velocity,
        should_pause,
        -- if nothing is done: the window's hourly spend rate for the rest of the UTC (budget) day
        (case
            when should_pause then round(window_spend / {{ window_hours }} * (23 - hour_of_day), 2)
            else 0
        end)::numeric(14, 2) as spend_at_risk,
        (case
            when should_pause then round(greatest(window_spend - baseline_window_spend, 0), 2)
            else 0
        end)::numeric(14, 2) as excess_window_spend

    from flagged

)

select * from final
