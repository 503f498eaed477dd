from django.db import migrations

from risks.groups import groups_sync


class Migration(migrations.Migration):
    dependencies = [
        ("risks", "0002_default_rating_scale"),
        ("roadmap", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(groups_sync, migrations.RunPython.noop)]
