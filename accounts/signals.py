"""Receivers that log sign-in events. They only log: the sign-in itself is Django's."""

from __future__ import annotations

import logging

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from accounts.security import security_event


@receiver(user_logged_in, dispatch_uid="accounts.log_sign_in")
def _signed_in(sender, request, user, **kwargs) -> None:
    security_event("sign_in.succeeded", request=request, username=user.get_username())


@receiver(user_logged_out, dispatch_uid="accounts.log_sign_out")
def _signed_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        security_event("sign_out", request=request, username=user.get_username())


@receiver(user_login_failed, dispatch_uid="accounts.log_sign_in_failure")
def _sign_in_failed(sender, credentials, request=None, **kwargs) -> None:
    security_event(
        "sign_in.failed",
        request=request,
        username=credentials.get("username") or "-",
        level=logging.WARNING,
    )


@receiver(user_locked_out, dispatch_uid="accounts.log_lockout")
def _locked_out(sender, request, username, ip_address, **kwargs) -> None:
    security_event(
        "sign_in.locked_out", request=request, username=username or "-", level=logging.WARNING
    )
