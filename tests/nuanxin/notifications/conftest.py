"""Fixtures of the notifications' tests: the outbox wired to the local fakes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from nuanxin.notifications import outbox
from nuanxin.settings import Settings
from tests.nuanxin.notifications.fakes import (
    ACCESS_KEY_ID,
    ACCESS_KEY_SECRET,
    FakeSms,
    Inbox,
    fake_aliyun,
    fake_tencent,
    local_smtp,
)

TEMPLATES = ",".join(
    f"{kind}.{lang}=T_{kind}_{lang}"
    for kind in ("visit_code", "courier_day", "donor_delivered", "staff_deadlines")
    for lang in ("zh", "en")
)


@dataclass
class Wired:
    sms: FakeSms
    inbox: Inbox
    settings: Settings


def wired_settings(tmp_path: Path, provider: str, sms: FakeSms, inbox: Inbox) -> Settings:
    return Settings.from_env(
        {
            "NUANXIN_VAR_DIR": str(tmp_path),
            "SMS_PROVIDER": provider,
            "SMS_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "SMS_ACCESS_KEY_SECRET": ACCESS_KEY_SECRET,
            "SMS_SIGN_NAME": "暖心救助",
            "SMS_APP_ID": "1400000001",
            "SMS_ENDPOINT": sms.endpoint,
            "SMS_PROTOCOL": "http",
            "SMS_TEMPLATES": TEMPLATES,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(inbox.port),
            "SMTP_SECURITY": "none",
            "MAIL_FROM": "暖心 <noreply@nuanxin.example>",
            "HOTLINE": "0451-12345",
        }
    )


@pytest.fixture(params=["aliyun", "tencent"])
def wired(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Wired]:
    """The outbox sending SMS to a fake provider (each in turn) and mail to aiosmtpd."""
    fake = fake_aliyun if request.param == "aliyun" else fake_tencent
    with fake() as sms, local_smtp() as inbox:
        settings = wired_settings(tmp_path, request.param, sms, inbox)
        outbox.configure(settings)
        try:
            yield Wired(sms=sms, inbox=inbox, settings=settings)
        finally:
            outbox.reset()


@pytest.fixture
def aliyun_wired(tmp_path: Path) -> Iterator[Wired]:
    with fake_aliyun() as sms, local_smtp() as inbox:
        settings = wired_settings(tmp_path, "aliyun", sms, inbox)
        outbox.configure(settings)
        try:
            yield Wired(sms=sms, inbox=inbox, settings=settings)
        finally:
            outbox.reset()
