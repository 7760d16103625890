{#
    Custom schemas are used verbatim (dws, ads, dwd), not dbt's default `<target schema>_<custom>`:
    the warehouse's schemas and their grants are fixed by storage/bootstrap.py (DESIGN.md §6).
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
