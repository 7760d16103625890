{#
    The days a logged Spark DWD run rebuilt, as a lateral subquery over `runs` (rows of
    stg_ops__run_log): every day of its window and every partition it rewrote (the SCD2 catalog also
    rewrites the older partitions whose versions it closed).
#}
{% macro dwd_run_rebuilt_days(runs) -%}
    (
        select window_days.day::date as day
        from generate_series({{ runs }}.window_start, {{ runs }}.ds, interval '1 day') as window_days (day)
        union
        select jsonb_object_keys({{ runs }}.partitions)::date
    )
{%- endmacro %}


{#
    The days an incremental ads_reconciliation run re-checks: the run's window, widened back to the
    oldest day a Spark DWD run of the window rebuilt, because those days' DWD and Postgres rows changed
    too. A range, not a day list, so Postgres reads each table's ds index instead of scanning it.
    Without a window (a full build) every day.
#}
{% macro reconciliation_scope(column='ds') -%}
    {%- set ds_start = ds_window_bound('ds_start') -%}
    {%- set ds_end = ds_window_bound('ds_end') -%}
    {%- if ds_start is none -%}
        {{ ds_window_predicate(column) }}
    {%- else -%}
        {{ column }} >= (
            select least(date '{{ ds_start }}', min(rebuilt.day))
            from {{ ref('stg_ops__run_log') }} as runs
            cross join lateral {{ dwd_run_rebuilt_days('runs') }} as rebuilt
            where runs.step = 'spark_dwd' and {{ ds_window_predicate('runs.ds') }}
        )
        {%- if ds_end is not none %} and {{ column }} <= date '{{ ds_end }}'{% endif -%}
    {%- endif -%}
{%- endmacro %}
