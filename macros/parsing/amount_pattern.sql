{#-
    What a money amount may look like in the feed: optional sign, digits with an
    optional decimal point, optional exponent ("1250000", "-3.5", ".5", "5e7").
    No thousands separators or currency signs: a CRM export that adds them is
    rejected, not guessed at. Python twin: raw_clients.AMOUNT_PATTERN.
-#}
{% macro amount_pattern() %}
    {{- return('[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?') -}}
{% endmacro %}
