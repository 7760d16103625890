{#
    RFM helpers for ads_customer_value.

    rfm_quintile(): a 1-5 score from the value's percent rank within the partition,
    least(5, 1 + floor(5 * percent_rank)). Ties share the lower score (percent_rank gives tied rows
    the rank of the first), so the many one-order customers all score frequency 1; the top value
    scores 5. A partition of a single customer scores 1.

    rfm_segment(): the named segment for a (recency, frequency) score pair, from var
    rfm_segment_rules (dbt_project.yml): an ordered list of {segment, r_min, r_max, f_min, f_max},
    first match wins, null when no rule matches (the not_null test and the grid-coverage test catch
    a rule table with holes).
#}
{% macro rfm_quintile(order_by, partition_by) -%}
    least(5, 1 + floor(5 * percent_rank() over (partition by {{ partition_by }} order by {{ order_by }})))::integer
{%- endmacro %}


{% macro rfm_segment(recency_score, frequency_score) -%}
    {%- set rules = var('rfm_segment_rules') -%}
    {%- if not rules -%}
        {{ exceptions.raise_compiler_error("var rfm_segment_rules must list at least one rule") }}
    {%- endif -%}
    case
    {%- for rule in rules %}
        when {{ recency_score }} between {{ rule['r_min'] | int }} and {{ rule['r_max'] | int }}
            and {{ frequency_score }} between {{ rule['f_min'] | int }} and {{ rule['f_max'] | int }}
            then '{{ rule['segment'] | replace("'", "''") }}'
    {%- endfor %}
    end
{%- endmacro %}
