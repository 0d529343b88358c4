{#-
    Amount text that matches amount_pattern() but is out of range before any
    engine parses it: more than 36 integer digits in the mantissa, or an exponent
    of 1,000 or more either way. Deciding these by their spelling keeps every
    engine (and the Python twin) giving the same answer where decimal parsers
    differ at their limits (docs/decisions/0002-amounts-as-text.md).
    Python twin: raw_clients.AMOUNT_OUT_OF_RANGE_PATTERN.
-#}
{% macro amount_out_of_range_pattern() %}
    {{- return('[+-]?0*[1-9][0-9]{36,}([.eE].*)?|.*[eE][+-]?0*[1-9][0-9]{3,}') -}}
{% endmacro %}
