"""Who may do what, by group. Data migrations call `groups_sync` so the groups follow the models.

Staff keep the register and the roadmap current (add, change, view); Board and Auditor only
view. Nobody but a superuser deletes anything: no group gets a delete permission. The trigger
log is append-only, so Staff add and view its entries but never change them.
"""

from __future__ import annotations

ROADMAP_MODELS = [
    "agency",
    "phase",
    "phaseobjective",
    "legislativerequirement",
    "personnelrequirement",
    "fundingline",
    "infrastructurerequirement",
    "governancebody",
    "keyaction",
    "metric",
    "metrictarget",
    "metricreading",
]
REGISTER_MODELS = ["risk", "assessment", "mitigationaction", "indicator", "indicatorbreach"]
APPEND_ONLY_MODELS = ["triggerentry"]
SCALE_MODELS = ["ratinglevel", "ratingband", "riskappetite"]
# The board records its own quarterly reviews and risk acceptances; snapshots are frozen.
BOARD_MODELS = ["boardreview", "riskacceptance"]
FROZEN_MODELS = ["reviewsnapshot"]
# Written only by `send_reminders`: everyone who sees the register sees what it sent.
RECORD_MODELS = ["reminder"]


def _codenames(actions: list[str], models: list[str]) -> list[str]:
    return [f"{action}_{model}" for model in models for action in actions]


EDITABLE = _codenames(["add", "change", "view"], ROADMAP_MODELS + REGISTER_MODELS)
APPENDABLE = _codenames(["add", "view"], APPEND_ONLY_MODELS)
VIEW_ALL = _codenames(
    ["view"],
    ROADMAP_MODELS
    + REGISTER_MODELS
    + APPEND_ONLY_MODELS
    + SCALE_MODELS
    + BOARD_MODELS
    + FROZEN_MODELS
    + RECORD_MODELS,
)
BOARD_RECORDS = _codenames(["add", "change", "view"], BOARD_MODELS)

GROUP_PERMISSIONS: dict[str, list[str]] = {
    "Staff": sorted(set(EDITABLE + APPENDABLE + VIEW_ALL)),
    "Board": sorted(set(BOARD_RECORDS + VIEW_ALL)),
    "Auditor": VIEW_ALL,
}


def groups_sync(apps, schema_editor=None) -> None:
    """Create the groups and set exactly their permissions (usable from a migration)."""
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after migrate; a data migration needs them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GROUP_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(
            Permission.objects.filter(
                codename__in=codenames, content_type__app_label__in=["roadmap", "risks"]
            )
        )
