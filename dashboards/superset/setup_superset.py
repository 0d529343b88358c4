"""Set up Superset's metadata for the CRM dashboards in one app start: accounts, the bundle, the viewer role.

Run by `scripts/superset.sh import` with Superset's own Python after `superset db upgrade` and
`superset init` (or a copy of a database they prepared):
`python setup_superset.py BUNDLE_ZIP ADMIN_USER VIEWER_USER`, the passwords in
SUPERSET_ADMIN_PASSWORD and SUPERSET_VIEWER_PASSWORD. It does what `superset fab create-admin` and
`superset import-dashboards` do (each a CLI call that starts Superset anew), but imports through
Superset's asset importer, which overwrites the database, datasets, charts and dashboards alike,
so a re-import updates everything. Then it gives the viewer account the role `crm_viewer`: Gamma's
read permissions (no write, delete, import, export or SQL Lab) plus access to the one database, so
the viewer reads every chart of the dashboards and cannot change them.
"""

import os
import sys
from zipfile import ZipFile

from superset.app import create_app

VIEWER_ROLE = "crm_viewer"
DATABASE_NAME = "crm_priority"
# Gamma's permissions that change something or reach beyond the dashboards: the viewer gets the rest.
WRITE_WORDS = ("write", "delete", "add", "edit", "save", "import", "export", "copy", "upload", "sql", "tag", "share")


def main() -> None:
    bundle, admin_name, viewer_name = sys.argv[1:4]
    app = create_app()
    with app.app_context():
        from flask import g
        from superset import db, security_manager
        from superset.commands.importers.v1.assets import ImportAssetsCommand
        from superset.commands.importers.v1.utils import get_contents_from_bundle
        from superset.models.core import Database

        admin = security_manager.find_user(username=admin_name)
        if admin is None:
            admin = security_manager.add_user(
                admin_name,
                "CRM",
                "Admin",
                f"{admin_name}@localhost",
                [security_manager.find_role("Admin")],
                password=os.environ["SUPERSET_ADMIN_PASSWORD"],
            )
        else:
            security_manager.reset_password(admin.id, os.environ["SUPERSET_ADMIN_PASSWORD"])
        db.session.commit()

        g.user = admin
        with ZipFile(bundle) as archive:
            contents = get_contents_from_bundle(archive)
        # The bundle is a dashboard export (type Dashboard, what `superset import-dashboards` takes);
        # the asset importer takes the same files declared as assets.
        contents["metadata.yaml"] = contents["metadata.yaml"].replace("type: Dashboard", "type: assets")
        ImportAssetsCommand(contents).run()

        database = db.session.query(Database).filter_by(database_name=DATABASE_NAME).one()
        role = security_manager.find_role(VIEWER_ROLE) or security_manager.add_role(VIEWER_ROLE)
        role.permissions = [
            permission
            for permission in security_manager.find_role("Gamma").permissions
            if not any(word in permission.permission.name.lower() for word in WRITE_WORDS)
        ]
        role.permissions.append(security_manager.add_permission_view_menu("database_access", database.perm))
        viewer = security_manager.find_user(username=viewer_name)
        if viewer is None:
            security_manager.add_user(
                viewer_name,
                "CRM",
                "Viewer",
                f"{viewer_name}@localhost",
                [role],
                password=os.environ["SUPERSET_VIEWER_PASSWORD"],
            )
        else:
            viewer.roles = [role]
            security_manager.reset_password(viewer.id, os.environ["SUPERSET_VIEWER_PASSWORD"])
        db.session.commit()


if __name__ == "__main__":
    main()
