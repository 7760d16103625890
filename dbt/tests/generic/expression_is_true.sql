{#
    Fails on every row where the boolean SQL expression is not true (false or null), e.g.
    `recency_score between 1 and 5`; at column level the column is only documentation. Same
    contract as dbt_utils' test, without the package.
#}
{% test expression_is_true(model, expression, column_name=none) %}

select *
from {{ model }}
where not coalesce({{ expression }}, false)

{% endtest %}
