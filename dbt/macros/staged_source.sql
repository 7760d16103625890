{#
    staged_source(source_name, table_name): the source relation, or, when the table does not exist
    yet, an empty relation with the source's declared columns and types.

    Why: only the orders chain is guaranteed to have loaded DWD before the daily `dbt build`; the
    other sources (ads, shop health, reviews, ...) are landed beside it, so on a fresh warehouse their
    tables may not exist yet. Building their staging views over an empty, correctly typed relation
    keeps the build green and the marts empty until the data arrives; the next build (views are
    rebuilt every run) reads the real table. Each column of such a source must declare `data_type`
    in __sources.yml.
#}
{% macro staged_source(source_name, table_name) -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- if not execute -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- if adapter.get_relation(relation.database, relation.schema, relation.identifier) is not none -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- set node = graph.sources.values() | selectattr('source_name', 'equalto', source_name)
        | selectattr('name', 'equalto', table_name) | first -%}
    {%- set columns = node.columns.values() | list -%}
    {%- if not columns or columns | selectattr('data_type', 'none') | list -%}
        {{ exceptions.raise_compiler_error(
            "source " ~ source_name ~ "." ~ table_name ~ " does not exist and does not declare a data_type"
            ~ " for every column, so no empty stand-in can be built") }}
    {%- endif -%}
    {{ log("source " ~ relation ~ " does not exist yet; staging it as an empty relation", info=true) }}
    {%- set stand_in -%}
        (select
            {%- for column in columns %}
            null::{{ column.data_type }} as {{ column.name }}{{ "," if not loop.last }}
            {%- endfor %}
        where false)
    {%- endset -%}
    {{ return(stand_in) }}
{%- endmacro %}
