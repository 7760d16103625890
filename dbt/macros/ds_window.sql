{#
    The business-date window an incremental run rebuilds, from vars ds_start / ds_end (inclusive,
    YYYY-MM-DD). Either may be unset; both unset means every day. Values are validated before they
    reach SQL because vars come from the command line.
#}
{% macro ds_window_bound(name) -%}
    {%- set value = var(name, none) -%}
    {%- if value is none or (value | string | trim) == '' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set text = value | string | trim -%}
    {%- if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', text) -%}
        {{ exceptions.raise_compiler_error("var " ~ name ~ " must be a date YYYY-MM-DD, got '" ~ text ~ "'") }}
    {%- endif -%}
    {{ return(text) }}
{%- endmacro %}


{#
    `column` within the run's window, widened back by `days_before` days (what a day's value needs when
    it looks at earlier days, e.g. a 7-day change); `open_ended`: no upper bound. 'true' when no bound
    is set.
#}
{% macro ds_window_predicate(column='ds', days_before=0, open_ended=false) -%}
    {%- set ds_start = ds_window_bound('ds_start') -%}
    {%- set ds_end = none if open_ended else ds_window_bound('ds_end') -%}
    {%- set clauses = [] -%}
    {%- if ds_start is not none -%}
        {%- set widened = " - " ~ (days_before | int) if days_before else "" -%}
        {%- do clauses.append(column ~ " >= date '" ~ ds_start ~ "'" ~ widened) -%}
    {%- endif -%}
    {%- if ds_end is not none -%}
        {%- do clauses.append(column ~ " <= date '" ~ ds_end ~ "'") -%}
    {%- endif -%}
    {{ clauses | join(' and ') if clauses else 'true' }}
{%- endmacro %}


{#
    What an incremental model reads and rebuilds: ds_window_predicate() on an incremental run, 'true' on
    the first build and on --full-refresh (every day, so a window can never truncate history). Models
    filter with `where {{ in_window('ds') }}` instead of repeating the is_incremental() block.
#}
{% macro in_window(column='ds', days_before=0, open_ended=false) -%}
    {{ ds_window_predicate(column, days_before, open_ended) if is_incremental() else 'true' }}
{%- endmacro %}


{#
    The pre-hook of every incremental model (folder-level for dws/ in dbt_project.yml): an incremental
    run first deletes the days it rebuilds, so delete+insert replaces them in one transaction, even a
    key that no longer has rows. The days are the run's window widened back by the model's
    `meta: {rebuild_days_before: N}` (default 0), or the `predicate` given.
#}
{% macro delete_window(predicate=none) -%}
    {%- if is_incremental() -%}
        {%- set days_before = (config.get('meta') or {}).get('rebuild_days_before', 0) -%}
        delete from {{ this }} where {{ predicate if predicate is not none else ds_window_predicate('ds', days_before) }}
    {%- endif -%}
{%- endmacro %}
