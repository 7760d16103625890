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


{% macro ds_window_predicate(column='ds') -%}
    {%- set ds_start = ds_window_bound('ds_start') -%}
    {%- set ds_end = ds_window_bound('ds_end') -%}
    {%- set clauses = [] -%}
    {%- if ds_start is not none -%}
        {%- do clauses.append(column ~ " >= date '" ~ ds_start ~ "'") -%}
    {%- endif -%}
    {%- if ds_end is not none -%}
        {%- do clauses.append(column ~ " <= date '" ~ ds_end ~ "'") -%}
    {%- endif -%}
    {{ clauses | join(' and ') if clauses else 'true' }}
{%- endmacro %}


{#
    The run's window widened back by `days`: what a model needs to read when a day's value looks at
    earlier days (e.g. a 7-day change). Same validation as ds_window_predicate.
#}
{% macro ds_window_predicate_with_history(column='ds', days=0) -%}
    {%- set ds_start = ds_window_bound('ds_start') -%}
    {%- set ds_end = ds_window_bound('ds_end') -%}
    {%- set clauses = [] -%}
    {%- if ds_start is not none -%}
        {%- do clauses.append(column ~ " >= date '" ~ ds_start ~ "' - " ~ (days | int)) -%}
    {%- endif -%}
    {%- if ds_end is not none -%}
        {%- do clauses.append(column ~ " <= date '" ~ ds_end ~ "'") -%}
    {%- endif -%}
    {{ clauses | join(' and ') if clauses else 'true' }}
{%- endmacro %}
