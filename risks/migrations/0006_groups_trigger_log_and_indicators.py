from django.db import migrations

from risks.groups import groups_sync


class Migration(migrations.Migration):
    dependencies = [("risks", "0005_trigger_log_append_only")]
    operations = [migrations.RunPython(groups_sync, migrations.RunPython.noop)]
