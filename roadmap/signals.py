"""What the plan tells those who depend on it. The plan knows nothing of the register: the
register listens (risks/apps.py) and reacts through its own service."""

from django.dispatch import Signal

# Sent by roadmap.services inside the transaction that saved a reading, with `reading=`.
metric_reading_saved = Signal()
