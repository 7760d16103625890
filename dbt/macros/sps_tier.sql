{#
    sps_tier(score): P0 below var sps_p0_below (the platform's red line: promotion eligibility is
    lost), warning below var sps_warning_below, else safe. Null score, null tier.
#}
{% macro sps_tier(score) -%}
    case
        when {{ score }} is null then null
        when {{ score }} < {{ var('sps_p0_below') }} then 'P0'
        when {{ score }} < {{ var('sps_warning_below') }} then 'warning'
        else 'safe'
    end
{%- endmacro %}
