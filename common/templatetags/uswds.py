"""Form controls in the U.S. Web Design System's classes, their errors tied to them.

`{% uswds_widget field %}` renders a bound field's widget with the USWDS class for its kind,
`aria-describedby` naming its help text and its error, and `autofocus` on the first control
in error, so a refused form opens at the control to fix (no script needed)."""

from __future__ import annotations

from django import forms, template

register = template.Library()


def _first_error(form: forms.BaseForm) -> str | None:
    return next((bound.name for bound in form if bound.errors), None)


@register.simple_tag
def uswds_widget(field: forms.BoundField, hint: bool = True):
    widget = field.field.widget
    if isinstance(widget, forms.CheckboxInput):
        css = "usa-checkbox__input"
    elif isinstance(widget, forms.Select):
        css = "usa-select"
    elif isinstance(widget, forms.Textarea):
        css = "usa-textarea"
    else:
        css = "usa-input"
    described = []
    if hint and field.help_text:
        described.append(f"{field.auto_id}_helptext")
    attrs = {}
    if field.errors:
        css += " usa-input--error"
        described.append(f"{field.auto_id}_error")
        attrs["aria-invalid"] = "true"
        if _first_error(field.form) == field.name:
            attrs["autofocus"] = True
    attrs["class"] = " ".join([widget.attrs.get("class", ""), css]).strip()
    if described:
        attrs["aria-describedby"] = " ".join(described)
    return field.as_widget(attrs=attrs)
