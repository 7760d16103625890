{#
    Which ASINs look like they are about to break out? The robust z-score baseline: each signal's
    robust z within (marketplace, category, day), weighted into one score. Incremental by ds; a day
    reads 2 x breakout_signal_days of history. Rules: ads_asin_breakout_baseline.yml.
#}
{{
    config(
        materialized='incremental',
        unique_key=['asin', 'marketplace_id', 'ds'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        indexes=[{'columns': ['asin', 'marketplace_id', 'ds'], 'unique': true}, {'columns': ['ds']}],
        pre_hook="{{ delete_window() }}",
    )
}}
{%- set n = var('breakout_signal_days') | int -%}
{%- set weights = var('breakout_weights') -%}
{%- set signals = ['review_velocity', 'rank_improvement', 'units_growth', 'price_cut'] %}

with

asin_days as (

    select * from {{ ref('dws_asin_daily') }}
    where {{ in_window('ds', days_before=2 * n) }}

),

history as (

    select
        asin_days.*,
        sum(units) over (
            partition by asin, marketplace_id order by ds
            range between interval '{{ n - 1 }} days' preceding and current row
        ) as units_recent,
        sum(units) over (
            partition by asin, marketplace_id order by ds
            range between interval '{{ 2 * n - 1 }} days' preceding and interval '{{ n }} days' preceding
        ) as units_before

    from asin_days

),

signals as (

    -- every signal compares today with n days back; positive means "more breakout-like"
    select
        today.asin,
        today.marketplace_id,
        today.ds,
        today.category,
        (today.review_count - earlier.review_count)::numeric as review_velocity,
        (ln(earlier.bsr) - ln(today.bsr))::numeric as rank_improvement,
        (ln(1 + coalesce(today.units_recent, 0)) - ln(1 + coalesce(today.units_before, 0)))::numeric
            as units_growth,
        ((earlier.price - today.price) / nullif(earlier.price, 0))::numeric as price_cut

    from history as today

    left join history as earlier
        on
            today.asin = earlier.asin
            and today.marketplace_id = earlier.marketplace_id
            and earlier.ds = today.ds - {{ n }}

    where
        today.has_snapshot
        and today.category is not null
        and {{ in_window('today.ds') }}

),

medians as (

    select
        marketplace_id,
        category,
        ds,
        count(*) as peer_asins
        {%- for signal in signals %},
        percentile_cont(0.5) within group (order by {{ signal }})::numeric as {{ signal }}_median
        {%- endfor %}

    from signals

    group by marketplace_id, category, ds

),

deviations as (

    select
        signals.*,
        medians.peer_asins
        {%- for signal in signals %},
        medians.{{ signal }}_median,
        abs(signals.{{ signal }} - medians.{{ signal }}_median) as {{ signal }}_abs_dev
        {%- endfor %}

    from signals

    inner join medians
        on
            signals.marketplace_id = medians.marketplace_id
            and signals.category = medians.category
            and signals.ds = medians.ds

),

spreads as (

    select
        marketplace_id,
        category,
        ds
        {%- for signal in signals %},
        percentile_cont(0.5) within group (order by {{ signal }}_abs_dev)::numeric as {{ signal }}_mad,
        avg({{ signal }}_abs_dev) as {{ signal }}_mean_abs_dev
        {%- endfor %}

    from deviations

    group by marketplace_id, category, ds

),

scored as (

    select
        deviations.asin,
        deviations.marketplace_id,
        deviations.ds,
        deviations.category,
        deviations.peer_asins
        {%- for signal in signals %},
        deviations.{{ signal }},
        {{ robust_z(
            'deviations.' ~ signal,
            'deviations.' ~ signal ~ '_median',
            'spreads.' ~ signal ~ '_mad',
            'spreads.' ~ signal ~ '_mean_abs_dev'
        ) }} as {{ signal }}_z
        {%- endfor %}

    from deviations

    inner join spreads
        on
            deviations.marketplace_id = spreads.marketplace_id
            and deviations.category = spreads.category
            and deviations.ds = spreads.ds

),

weighted as (

    select
        scored.*,
        {%- for signal in signals %}
        {{ weights[signal] }} * {{ signal }}_z{{ ' +' if not loop.last else ' as baseline_score' }}
        {%- endfor %}

    from scored

),

final as (

    select
        asin,
        marketplace_id,
        ds,
        category,
        peer_asins::integer as peer_asins
        {%- for signal in signals %},
        round({{ signal }}, 6)::numeric(18, 6) as {{ signal }}
        {%- endfor %}
        {%- for signal in signals %},
        round({{ signal }}_z, 4)::numeric(12, 4) as {{ signal }}_z
        {%- endfor %},
        round(baseline_score, 4)::numeric(12, 4) as baseline_score,
        (rank() over (partition by marketplace_id, category, ds order by baseline_score desc))::integer
            as peer_rank

    from weighted

)

select * from final
