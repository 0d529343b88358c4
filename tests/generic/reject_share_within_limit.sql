{#-
    Fails the build when more than var('max_reject_share') of the source rows
    were rejected: a broken feed must stop a scheduled build rather than publish
    a client book with clients missing. A handful of rejects is normal and passes.

    dbt's own failure message only counts failing rows, so when the share is
    exceeded the test stops with a message that says why: the share, and the
    leading reject reasons with their counts ("aum_not_numeric: 2, ...").
-#}
{% test reject_share_within_limit(model, rejects_model) %}

    {%- set max_share = crm_priority.validated_reject_share() %}

    {%- set exceeded_sql %}
    with

    counts as (

        select
            (select count(*) from {{ model }}) as mart_rows,
            (select count(*) from {{ rejects_model }}) as rejected_rows

    )

    select
        mart_rows,
        rejected_rows
    from counts
    where rejected_rows > {{ max_share }} * (mart_rows + rejected_rows)
    {%- endset %}

    {%- if execute -%}
        {%- set exceeded = run_query(exceeded_sql) -%}
        {%- if exceeded.rows | length > 0 -%}
            {%- set mart_rows = exceeded.rows[0][0] | int -%}
            {%- set rejected_rows = exceeded.rows[0][1] | int -%}
            {%- set reasons = run_query(
                "select reject_reason, count(*) as rejected_rows from " ~ rejects_model
                ~ " group by reject_reason order by count(*) desc, reject_reason"
            ) -%}
            {%- set leading = [] -%}
            {%- for row in reasons.rows[:5] -%}
                {%- do leading.append(row[0] ~ ': ' ~ (row[1] | int)) -%}
            {%- endfor -%}
            {{ exceptions.raise_compiler_error(
                rejected_rows ~ ' of ' ~ (mart_rows + rejected_rows) ~ ' source rows were rejected ('
                ~ '%.1f' | format(100.0 * rejected_rows / (mart_rows + rejected_rows))
                ~ '%), more than max_reject_share ' ~ max_share ~ '; leading reject reasons: '
                ~ leading | join(', ') ~ (', ...' if reasons.rows | length > 5 else '')
                ~ ' (see ' ~ rejects_model ~ ').'
            ) }}
        {%- endif -%}
    {%- endif %}

    {{ exceeded_sql }}

{% endtest %}
