{#-
    A select over `clients` (a relation or CTE shaped like the client_priority mart):
    every client's current tier, priority and Qualified Purchaser status, as the mart
    holds them, beside the same scored under `policy` (a dict from proposed_policy())
    with the scoring macros the mart uses. The what-if analyses aggregate it.
    Python twin: services.crm.whatif.proposed_codes.
-#}
{% macro whatif_rescored_clients(clients, policy) %}
    {%- set proposed_tier = crm_priority.client_tier(crm_priority.tier_reason('aum', 'is_sfo', policy)) -%}
    {%- set proposed_qualified = crm_priority.is_qualified_purchaser(
        'qp_amount_tested', crm_priority.qp_threshold('qp_category', policy)
    ) -%}
    select
        client_id,
        client_name,
        aum,
        qp_category,
        tier as current_tier,
        priority as current_priority,
        is_qualified_purchaser as current_is_qualified_purchaser,
        {{ proposed_tier }} as proposed_tier,
        {{ crm_priority.tier_priority(proposed_tier) }} as proposed_priority,
        {{ proposed_qualified }} as proposed_is_qualified_purchaser
    from {{ clients }}
{%- endmacro %}
