"""Control characters in text: one rule for every field the admin, the pages, the API and the
import write. A newline in a risk's title once stopped that risk's Board emails (a header
cannot hold one); a NUL or an escape sequence has no place in a register either.

- Single-line text (`SingleLineField`, every short CharField of the models): no C0 control
  character (tab and newlines included), no DEL, no C1 control character, no Unicode line or
  paragraph separator.
- Multi-line text (`MultiLineField`, the models' TextFields): no C0 control character except
  tab, line feed and carriage return.

The validators are the fields' default validators, so ModelForms (the admin, the pages),
`full_clean` (the services, the import) and DRF's ModelSerializers (the API) all refuse the
same text with the same message."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.deconstruct import deconstructible

SINGLE_LINE_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
MULTI_LINE_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _describe(char: str) -> str:
    names = {"\n": "a line break", "\r": "a carriage return", "\t": "a tab"}
    return names.get(char, f"the control character U+{ord(char):04X}")


@deconstructible
class NoControlCharacters:
    def __init__(self, multi_line: bool = False):
        self.multi_line = multi_line

    def __call__(self, value) -> None:
        if not isinstance(value, str):
            return
        pattern = MULTI_LINE_FORBIDDEN if self.multi_line else SINGLE_LINE_FORBIDDEN
        found = pattern.search(value)
        if found:
            where = "this text" if self.multi_line else "this one-line field"
            raise ValidationError(
                f"Remove {_describe(found.group())} (position {found.start() + 1}): "
                f"{where} may not hold control characters.",
                code="control_characters",
            )

    def __eq__(self, other) -> bool:
        return isinstance(other, NoControlCharacters) and other.multi_line == self.multi_line


single_line = NoControlCharacters()
multi_line = NoControlCharacters(multi_line=True)


class SingleLineField(models.CharField):
    """A CharField that refuses control characters and line breaks."""

    default_validators = [single_line]

    def deconstruct(self):
        # Migrations see a plain CharField: the rule is validation only, never a schema
        # change. (A new field class would make SQLite rebuild every table, dropping the
        # trigger log's append-only triggers with them.)
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.CharField", args, kwargs


class MultiLineField(models.TextField):
    """A TextField that refuses control characters other than tab and line breaks."""

    default_validators = [multi_line]

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.TextField", args, kwargs
