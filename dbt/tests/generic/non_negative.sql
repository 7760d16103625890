{#
    Fails on rows where the column is below zero (nulls pass; pair with not_null when they must not
    occur). Amounts and counts in the marts are never negative; refunds live in their own models.
#}
{% test non_negative(model, column_name) %}

select {{ column_name }}
from {{ model }}
where {{ column_name }} < 0

{% endtest %}
