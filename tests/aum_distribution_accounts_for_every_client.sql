-- The distribution plot must show every client and every dollar of the mart exactly once:
-- the bands cover [0, infinity) without gaps or overlaps.
with

distribution as (

    select
        sum(client_count) as client_count,
        sum(total_aum) as total_aum
    from {{ ref('aum_distribution') }}

),

clients as (

    select
        count(*) as client_count,
        coalesce(sum(aum), 0) as total_aum
    from {{ ref('client_priority') }}

)

select
    distribution.client_count as distribution_clients,
    clients.client_count as mart_clients,
    distribution.total_aum as distribution_aum,
    clients.total_aum as mart_aum
from distribution
cross join clients
where
    distribution.client_count != clients.client_count
    or distribution.total_aum != clients.total_aum
