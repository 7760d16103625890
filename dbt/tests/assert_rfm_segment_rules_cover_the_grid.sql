{#
    The RFM segment rule table (var rfm_segment_rules) names exactly one segment for each of the 25
    (recency, frequency) score pairs when read first-match-wins, and no rule is shadowed into
    uselessness by an overlap: returns the pairs no rule covers and the pairs more than one covers.
#}
with

grid as (

    select
        r.score as recency_score,
        f.score as frequency_score

    from generate_series(1, 5) as r (score)

    cross join generate_series(1, 5) as f (score)

),

matches as (

    select
        grid.recency_score,
        grid.frequency_score,
        {{ rfm_segment('grid.recency_score', 'grid.frequency_score') }} as rfm_segment,
        (
            0
            {%- for rule in var('rfm_segment_rules') %}
            + case
                when grid.recency_score between {{ rule['r_min'] | int }} and {{ rule['r_max'] | int }}
                    and grid.frequency_score between {{ rule['f_min'] | int }} and {{ rule['f_max'] | int }}
                    then 1 else 0
            end
            {%- endfor %}
        ) as matching_rules

    from grid

)

select * from matches
where rfm_segment is null or matching_rules <> 1
