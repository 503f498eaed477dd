"""Existing recovery codes (django-otp's StaticToken, in plain text) become salted digests in
RecoveryCode, and the plain-text rows are deleted: after this no code is readable in the
database or in a backup. Users keep the codes they wrote down.

Not reversible in substance: a digest cannot give the code back, so going back leaves the
users without recovery codes (they get new ones when they next set up their app)."""

import hashlib
import secrets

from django.db import migrations


def _digest(code: str, salt: str) -> str:
    # As accounts.models.recovery_code_digest, frozen here.
    normal = code.strip().replace(" ", "").replace("-", "").lower()
    return hashlib.sha256(f"{salt}:{normal}".encode()).hexdigest()


def hash_existing_codes(apps, schema_editor):
    StaticDevice = apps.get_model("otp_static", "StaticDevice")
    RecoveryCodeDevice = apps.get_model("accounts", "RecoveryCodeDevice")
    RecoveryCode = apps.get_model("accounts", "RecoveryCode")
    for old in StaticDevice.objects.all().iterator():
        new = RecoveryCodeDevice.objects.create(
            user_id=old.user_id,
            name=old.name,
            confirmed=old.confirmed,
            throttling_failure_timestamp=old.throttling_failure_timestamp,
            throttling_failure_count=old.throttling_failure_count,
            created_at=old.created_at,
            last_used_at=old.last_used_at,
        )
        codes = []
        for token in old.token_set.all():
            salt = secrets.token_hex(16)
            codes.append(RecoveryCode(device=new, salt=salt, digest=_digest(token.token, salt)))
        RecoveryCode.objects.bulk_create(codes)
        old.token_set.all().delete()
        old.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_recovery_codes_hashed"),
        ("otp_static", "0003_add_timestamps"),
    ]

    operations = [migrations.RunPython(hash_existing_codes, migrations.RunPython.noop)]
