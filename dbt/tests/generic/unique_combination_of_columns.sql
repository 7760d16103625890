{#
    Fails on every key combination that occurs more than once: the grain check for models keyed by
    several columns (e.g. marketplace + ds). Same contract as dbt_utils', without the package.
#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

{%- set columns_csv = combination_of_columns | join(', ') %}

select
    {{ columns_csv }},
    count(*) as n_records
from {{ model }}
group by {{ columns_csv }}
having count(*) > 1

{% endtest %}
