{#
    The SQL ads_reconciliation generates from its configuration: var reconciled_entities (every DWD
    entity, its source, ODS entity and staging view) and var reconciliation_mart_checks (how each DWS
    mart that sums an entity is compared with the entity's rows). Both are in dbt_project.yml.
#}

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
    The first build, --full-refresh and a build without a window: every day ('true').
#}
{% macro reconciliation_scope(column='ds') -%}
    {%- set ds_start = ds_window_bound('ds_start') -%}
    {%- set ds_end = ds_window_bound('ds_end') -%}
    {%- if not is_incremental() -%}
        true
    {%- elif ds_start is none -%}
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


{# (entity, source_name, ods_entity) of every reconciled entity; a null source = every order source. #}
{% macro reconciled_entity_map() -%}
    (
        values
        {% for e in var('reconciled_entities') %}
            ('{{ e.entity }}', {{ "'" ~ e.source ~ "'" if e.source else 'null' }}, '{{ e.ods_entity }}')
            {{- ',' if not loop.last }}
        {% endfor %}
    ) as mapped (entity, source_name, ods_entity)
{%- endmacro %}


{#
    (source_name, entity, ds, postgres_rows): rows per day of every reconciled DWD table in the scope.
    Order items carry no source column: non-API order sources prefix their ids with `<source>:`
    (spark_jobs/channels.py), the rest came from var reconciliation_api_source.
#}
{% macro reconciled_postgres_rows() -%}
    {% for e in var('reconciled_entities') %}
    select
        {% if e.source -%}
        '{{ e.source }}'
        {%- else -%}
        case when order_id like '%:%' then split_part(order_id, ':', 1) else '{{ var('reconciliation_api_source') }}' end
        {%- endif %} as source_name,
        '{{ e.entity }}' as entity,
        ds,
        count(*) as postgres_rows
    from {{ ref(e.staging) }}
    where {{ reconciliation_scope('ds') }}
    group by 1, 2, 3
    {{ 'union all' if not loop.last }}
    {% endfor %}
{%- endmacro %}


{#
    (entity, ds, mart_group, n, amount, units) for every entity of var reconciliation_mart_checks, summed
    from `side` 'dwd' (the entity's staging view) or 'mart' (its DWS model; a group whose mart rows hold
    none of the entity is left out). amount and units are 0 where a check names none.
#}
{% macro reconciled_mart_groups(side) -%}
    {%- if side not in ('dwd', 'mart') -%}
        {{ exceptions.raise_compiler_error("reconciled_mart_groups: side must be 'dwd' or 'mart', got " ~ side) }}
    {%- endif -%}
    {%- set staging_of = {} -%}
    {%- for e in var('reconciled_entities') -%}{%- do staging_of.update({e.entity: e.staging}) -%}{%- endfor -%}
    {% for entity, check in var('reconciliation_mart_checks').items() %}
    select
        '{{ entity }}' as entity,
        ds,
        {{ check.group }} as mart_group,
        {{ check[side ~ '_count'] }} as n,
        {{ check.get(side ~ '_amount', '0') }} as amount,
        {{ check.get(side ~ '_units', '0') }} as units
    from {{ ref(staging_of[entity] if side == 'dwd' else check.mart) }}
    where {{ reconciliation_scope('ds') }}
    group by 1, 2, 3
    {%- if side == 'mart' %}
    having {{ check.mart_count }} > 0
    {%- endif %}
    {{ 'union all' if not loop.last }}
    {% endfor %}
{%- endmacro %}


{# (entity, mart_model): the DWS model each entity's rows are summed into. #}
{% macro reconciled_mart_models() -%}
    (
        values
        {% for entity, check in var('reconciliation_mart_checks').items() %}
            ('{{ entity }}', '{{ check.mart }}'){{ ',' if not loop.last }}
        {% endfor %}
    ) as marts (entity, mart_model)
{%- endmacro %}
