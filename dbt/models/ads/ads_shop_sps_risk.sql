{#
    Which shops are about to lose (or have lost) promotion eligibility, and why? One row per shop and
    snapshot day. Rules and thresholds: ads_shop_sps_risk.yml.
#}
{%- set weights = var('sps_driver_weights') -%}

with

all_days as (

    select * from {{ ref('dws_shop_daily') }}

),

shop_days as (

    select * from all_days
    where has_health_snapshot

),

week_ago as (

    select
        shop_days.shop_id,
        shop_days.ds,
        previous.sps_score as sps_score_7d_ago,
        previous.late_dispatch_rate as late_dispatch_rate_7d_ago,
        previous.cancellation_rate as cancellation_rate_7d_ago,
        previous.negative_review_rate as negative_review_rate_7d_ago

    from shop_days

    left join shop_days as previous
        on
            shop_days.shop_id = previous.shop_id
            and previous.ds = shop_days.ds - 7

),

recent_p0 as (

    select
        shop_days.shop_id,
        shop_days.ds,
        count(*) filter (where earlier.sps_score < {{ var('sps_p0_below') }}) as p0_days_7d

    from shop_days

    inner join shop_days as earlier
        on
            shop_days.shop_id = earlier.shop_id
            and earlier.ds between shop_days.ds - 6 and shop_days.ds

    group by shop_days.shop_id, shop_days.ds

),

complaints as (

    -- negative reviews reaching the shop over the 7 days ending on ds, and how many blame logistics
    select
        shop_days.shop_id,
        shop_days.ds,
        sum(earlier.negative_reviews) as negative_reviews_7d,
        sum(earlier.logistics_complaints) as logistics_complaints_7d

    from shop_days

    inner join all_days as earlier
        on
            shop_days.shop_id = earlier.shop_id
            and earlier.ds between shop_days.ds - 6 and shop_days.ds

    group by shop_days.shop_id, shop_days.ds

),

drivers as (

    select
        shop_days.*,
        week_ago.sps_score_7d_ago,
        week_ago.late_dispatch_rate_7d_ago,
        week_ago.cancellation_rate_7d_ago,
        week_ago.negative_review_rate_7d_ago,
        recent_p0.p0_days_7d,
        complaints.negative_reviews_7d,
        complaints.logistics_complaints_7d,
        {{ weights['late_dispatch'] }} * shop_days.late_dispatch_rate as late_dispatch_points,
        {{ weights['cancellation'] }} * shop_days.cancellation_rate as cancellation_points,
        {{ weights['negative_review'] }} * shop_days.negative_review_rate as negative_review_points

    from shop_days

    inner join week_ago
        on
            shop_days.shop_id = week_ago.shop_id
            and shop_days.ds = week_ago.ds

    inner join recent_p0
        on
            shop_days.shop_id = recent_p0.shop_id
            and shop_days.ds = recent_p0.ds

    inner join complaints
        on
            shop_days.shop_id = complaints.shop_id
            and shop_days.ds = complaints.ds

),

final as (

    select
        shop_id,
        ds,
        shop_name,
        marketplace_id,
        sps_score::numeric(4, 2) as sps_score,
        ({{ sps_tier('sps_score') }})::text as risk_tier,
        sps_score < {{ var('sps_p0_below') }} as is_below_red_line,
        p0_days_7d::integer as p0_days_7d,
        sps_score_7d_ago::numeric(4, 2) as sps_score_7d_ago,
        (sps_score - sps_score_7d_ago)::numeric(4, 2) as sps_change_7d,
        (case
            when sps_score_7d_ago is null then null
            when sps_score - sps_score_7d_ago < -{{ var('sps_trend_flat_band') }} then 'worsening'
            when sps_score - sps_score_7d_ago > {{ var('sps_trend_flat_band') }} then 'improving'
            else 'stable'
        end)::text as sps_trend,
        late_dispatch_rate::numeric(6, 4) as late_dispatch_rate,
        cancellation_rate::numeric(6, 4) as cancellation_rate,
        negative_review_rate::numeric(6, 4) as negative_review_rate,
        (late_dispatch_rate - late_dispatch_rate_7d_ago)::numeric(6, 4) as late_dispatch_rate_change_7d,
        (cancellation_rate - cancellation_rate_7d_ago)::numeric(6, 4) as cancellation_rate_change_7d,
        (negative_review_rate - negative_review_rate_7d_ago)::numeric(6, 4) as negative_review_rate_change_7d,
        round(late_dispatch_points, 2)::numeric(6, 2) as late_dispatch_points,
        round(cancellation_points, 2)::numeric(6, 2) as cancellation_points,
        round(negative_review_points, 2)::numeric(6, 2) as negative_review_points,
        negative_reviews_7d::bigint as linked_negative_reviews_7d,
        round(logistics_complaints_7d::numeric / nullif(negative_reviews_7d, 0), 4)::numeric(6, 4)
            as logistics_complaint_share_7d,
        (case
            when late_dispatch_points >= greatest(cancellation_points, negative_review_points)
                then 'late_dispatch'
            when cancellation_points >= negative_review_points then 'cancellation'
            else 'negative_review'
        end)::text as top_driver

    from drivers

)

select * from final
