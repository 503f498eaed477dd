from django.db import migrations

from risks.groups import groups_sync


class Migration(migrations.Migration):
    dependencies = [("risks", "0007_versions_and_board_reviews")]
    operations = [migrations.RunPython(groups_sync, migrations.RunPython.noop)]
