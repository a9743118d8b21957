"""The SMS adapters send through their providers' SDKs to fakes on loopback; mail to aiosmtpd."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from nuanxin.notifications.mail import Email, Mailer
from nuanxin.notifications.refusal import ProviderError
from nuanxin.notifications.sms import AliyunSms, Sms, TencentSms, sms_port
from nuanxin.settings import Settings, SettingsError
from tests.nuanxin.notifications.fakes import (
    ACCESS_KEY_ID,
    ACCESS_KEY_SECRET,
    fake_aliyun,
    fake_tencent,
    local_smtp,
)

PHONE = "13912345678"
TEMPLATES = "visit_code.zh=SMS_100,visit_code.en=SMS_101"


def sms_settings(tmp_path: Path, provider: str, endpoint: str, **env: str) -> Settings:
    return Settings.from_env(
        {
            "NUANXIN_VAR_DIR": str(tmp_path),
            "SMS_PROVIDER": provider,
            "SMS_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "SMS_ACCESS_KEY_SECRET": ACCESS_KEY_SECRET,
            "SMS_SIGN_NAME": "暖心救助",
            "SMS_APP_ID": "1400000001",
            "SMS_ENDPOINT": endpoint,
            "SMS_PROTOCOL": "http",
            "SMS_TEMPLATES": TEMPLATES,
            **env,
        }
    )


CODE_SMS = Sms(
    phone=PHONE, template="visit_code.zh", params=(("date", "12月3日"), ("code", "48213067"))
)


async def test_the_alibaba_adapter_sends_a_template_through_the_sdk(tmp_path: Path) -> None:
    with fake_aliyun() as fake:
        port = sms_port(sms_settings(tmp_path, "aliyun", fake.endpoint))
        assert isinstance(port, AliyunSms)
        message_id = await port.send(CODE_SMS)
    assert message_id.startswith("biz-")
    assert fake.bad_signatures == 0
    [sent] = fake.sent
    assert (sent.phone, sent.template_id, sent.sign_name) == (PHONE, "SMS_100", "暖心救助")
    assert sent.params == {"date": "12月3日", "code": "48213067"}


async def test_the_tencent_adapter_sends_a_template_through_the_sdk(tmp_path: Path) -> None:
    with fake_tencent() as fake:
        port = sms_port(sms_settings(tmp_path, "tencent", fake.endpoint))
        assert isinstance(port, TencentSms)
        message_id = await port.send(replace(CODE_SMS, template="visit_code.en"))
    assert message_id.startswith("serial-")
    assert fake.bad_signatures == 0
    [sent] = fake.sent
    assert (sent.phone, sent.template_id) == ("+86" + PHONE, "SMS_101")
    assert sent.params == ["12月3日", "48213067"]


async def test_a_wrong_secret_is_refused_by_the_fakes_for_good(tmp_path: Path) -> None:
    for fake_server, provider in ((fake_aliyun, "aliyun"), (fake_tencent, "tencent")):
        with fake_server() as fake:
            settings = sms_settings(
                tmp_path, provider, fake.endpoint, SMS_ACCESS_KEY_SECRET="not-the-secret"
            )
            port = sms_port(settings)
            assert port is not None
            with pytest.raises(ProviderError) as refused:
                await port.send(CODE_SMS)
        assert fake.bad_signatures == 1, provider
        assert not refused.value.retry, provider
        assert fake.sent == []


async def test_throttling_is_worth_a_retry_and_a_bad_number_is_not(tmp_path: Path) -> None:
    cases = (
        (fake_aliyun, "aliyun", "isv.BUSINESS_LIMIT_CONTROL", "isv.MOBILE_NUMBER_ILLEGAL"),
        (
            fake_tencent,
            "tencent",
            "LimitExceeded.PhoneNumberDailyLimit",
            "InvalidParameterValue.IncorrectPhoneNumber",
        ),
    )
    for fake_server, provider, throttled, bad_number in cases:
        with fake_server() as fake:
            port = sms_port(sms_settings(tmp_path, provider, fake.endpoint))
            assert port is not None
            fake.refusals.extend([throttled, bad_number])
            with pytest.raises(ProviderError) as first:
                await port.send(CODE_SMS)
            with pytest.raises(ProviderError) as second:
                await port.send(CODE_SMS)
        assert first.value.retry and throttled in first.value.code
        assert not second.value.retry and bad_number in second.value.code


async def test_an_unreachable_provider_is_worth_a_retry(tmp_path: Path) -> None:
    for provider in ("aliyun", "tencent"):
        with fake_aliyun() as fake:
            endpoint = fake.endpoint
        port = sms_port(sms_settings(tmp_path, provider, endpoint))  # nobody listens now
        assert port is not None
        with pytest.raises(ProviderError) as refused:
            await port.send(CODE_SMS)
        assert refused.value.retry, provider


async def test_a_template_without_a_configured_id_is_refused_before_any_request(
    tmp_path: Path,
) -> None:
    with fake_tencent() as fake:
        port = sms_port(sms_settings(tmp_path, "tencent", fake.endpoint))
        assert port is not None
        with pytest.raises(ProviderError) as refused:
            await port.send(replace(CODE_SMS, template="courier_day.zh"))
    assert not refused.value.retry
    assert fake.requests == 0


def test_a_provider_without_its_keys_stops_the_start(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as missing:
        Settings.from_env({"NUANXIN_VAR_DIR": str(tmp_path), "SMS_PROVIDER": "aliyun"})
    assert missing.value.variable == "SMS_ACCESS_KEY_ID"
    with pytest.raises(SettingsError) as bad:
        sms_settings(tmp_path, "aliyun", "127.0.0.1:1", SMS_TEMPLATES="visit_code=SMS_1")
    assert bad.value.variable == "SMS_TEMPLATES"
    assert sms_port(Settings.from_env({"NUANXIN_VAR_DIR": str(tmp_path)})) is None


def mail_settings(tmp_path: Path, port: int) -> Settings:
    return Settings.from_env(
        {
            "NUANXIN_VAR_DIR": str(tmp_path),
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(port),
            "SMTP_SECURITY": "none",
            "MAIL_FROM": "暖心 <noreply@nuanxin.example>",
        }
    )


async def test_mail_goes_through_smtp_to_the_local_server(tmp_path: Path) -> None:
    with local_smtp() as inbox:
        mailer = Mailer(mail_settings(tmp_path, inbox.port))
        message_id = await mailer.send(
            Email(to="donor@example.org", subject="您的捐赠已送达呼兰区", body="谢谢您。")
        )
    [received] = inbox.messages
    assert received["Message-ID"] == message_id
    assert received["To"] == "donor@example.org"
    assert received["Subject"] == "您的捐赠已送达呼兰区"
    assert received.get_content().strip() == "谢谢您。"


async def test_a_busy_mailbox_is_worth_a_retry_and_an_unknown_one_is_not(tmp_path: Path) -> None:
    with local_smtp() as inbox:
        mailer = Mailer(mail_settings(tmp_path, inbox.port))
        inbox.refuse.extend(["450 mailbox busy", "550 no such user"])
        with pytest.raises(ProviderError) as busy:
            await mailer.send(Email(to="a@example.org", subject="s", body="b"))
        with pytest.raises(ProviderError) as unknown:
            await mailer.send(Email(to="b@example.org", subject="s", body="b"))
    assert busy.value.retry
    assert not unknown.value.retry
    assert inbox.messages == []
