"""DRF's `authtoken` app is gone: its table held every key in plain text (and went into
backups). Drop it where it exists; its tokens are not carried over (they never expired).
Holders get a new token from /accounts/tokens/ or `make token USER=...`."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_api_tokens")]

    operations = [
        migrations.RunSQL(
            [
                "DROP TABLE IF EXISTS authtoken_token",
                "DELETE FROM django_migrations WHERE app = 'authtoken'",
            ],
            reverse_sql=migrations.RunSQL.noop,
        ),
    ]
