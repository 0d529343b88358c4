"""Client prioritization: the Python reference twin of the crm_priority dbt project."""

import logging

# A library stays silent unless the application configures logging.
logging.getLogger(__name__).addHandler(logging.NullHandler())
