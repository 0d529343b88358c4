"""Superset's configuration for the crm_priority dashboards: every secret and path from the environment.

scripts/superset.sh points SUPERSET_CONFIG_PATH here. Nothing secret lives in the repo: the
secret key comes from SUPERSET_SECRET_KEY (the script generates one per Superset home when it is
unset) and the metadata database, an SQLite file, lives in CRM_PRIORITY_SUPERSET_HOME.
"""

import os

SECRET_KEY = os.environ["SUPERSET_SECRET_KEY"]
SQLALCHEMY_DATABASE_URI = "sqlite:///" + os.path.join(os.environ["CRM_PRIORITY_SUPERSET_HOME"], "superset.db")
DATA_DIR = os.environ["CRM_PRIORITY_SUPERSET_HOME"]

# No result cache: each chart query opens the published snapshot anew (a new DuckDB connection per
# query, Superset's NullPool), so a dashboard shows a new build as soon as it is published. The
# marts are small; a query takes milliseconds.
DATA_CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}
CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}
# Explore and native filters keep their state in process memory (one local server, no Redis).
EXPLORE_FORM_DATA_CACHE_CONFIG = {"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": 86400}
FILTER_STATE_CACHE_CONFIG = {"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": 86400}
RATELIMIT_STORAGE_URI = "memory://"

# A local server on the loopback interface for analysts and the test: no HTTPS to enforce.
TALISMAN_ENABLED = False
CONTENT_SECURITY_POLICY_WARNING = False
SESSION_COOKIE_SECURE = False
