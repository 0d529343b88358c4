{#-
    What an updated_at may look like: ISO 8601 date, optionally with a time
    ("2026-03-01", "2026-03-01 14:05:00", "2026-03-01T14:05:00.123456"), read as
    UTC. Python twin: raw_clients.TIMESTAMP_PATTERN.
-#}
{% macro timestamp_pattern() %}
    {{- return('[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]{1,6})?)?)?') -}}
{% endmacro %}
