{#-
    What an updated_at may look like: ISO 8601 date, optionally with a time, whose
    seconds may carry up to 9 decimals, and then optionally `Z` or an offset
    `+HH`, `+HH:MM` or `+HH:MM:SS` (colons optional): "2026-03-01",
    "2026-03-01T14:05:00Z", "2026-03-01 14:05:00.123456789+02:00". This covers
    what DuckDB (TIMESTAMP, TIMESTAMPTZ, TIMESTAMP_NS), PostgreSQL (timestamp,
    timestamptz) and Spark (timestamp) write when a typed column is cast to text.
    Python twin: raw_clients.TIMESTAMP_PATTERN (the same, with named groups).
-#}
{% macro timestamp_pattern() %}
    {{- return(
        '[0-9]{4}-[0-9]{2}-[0-9]{2}'
        ~ '([ T][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]{1,9})?)?'
        ~ '(Z|[+-][0-9]{2}(:?[0-9]{2}(:?[0-9]{2})?)?)?)?'
    ) -}}
{% endmacro %}
