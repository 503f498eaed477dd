"""knox's own migrations create `knox_authtoken` even though KNOX_TOKEN_MODEL points at
accounts.ApiToken. The empty table's foreign key to auth_user made PostgreSQL refuse to
TRUNCATE the users (every transactional test's flush). Nothing uses it: drop it."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_drop_plaintext_tokens"),
        ("knox", "0009_extend_authtoken_field"),
    ]

    operations = [
        migrations.RunSQL(["DROP TABLE IF EXISTS knox_authtoken"], reverse_sql=migrations.RunSQL.noop),
    ]
