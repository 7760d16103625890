{#
    robust_z(value, median, mad, mean_abs_dev): (value - median) / scale with scale = 1.4826 x MAD
    (a normal sd when the data are normal), falling back to 1.2533 x the mean absolute deviation from
    the median when more than half the group ties (MAD = 0), and 0 when the group has no spread or
    the value is missing: a missing signal counts as average, not as a breakout.
#}
{% macro robust_z(value, median, mad, mean_abs_dev) -%}
    coalesce(
        ({{ value }} - {{ median }}) / nullif(
            case when {{ mad }} > 0 then 1.4826 * {{ mad }} else 1.2533 * {{ mean_abs_dev }} end, 0
        ),
        0
    )
{%- endmacro %}
