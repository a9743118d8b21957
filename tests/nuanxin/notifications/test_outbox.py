"""The outbox sends each message at most once, retries with backoff, skips who opted out."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from nuanxin.db import atomic
from nuanxin.jobs.queue import defer
from nuanxin.jobs.vocabulary import TaskName
from nuanxin.notifications.outbox import (
    BACKOFF_SECONDS,
    MAX_ATTEMPTS,
    forget_old,
    notify,
    retry_due,
)
from nuanxin.notifications.preferences import set_preference
from nuanxin.notifications.tables import Notification
from nuanxin.notifications.vocabulary import Channel, Kind, Language, Status
from nuanxin.security import install_log_redaction
from tests.nuanxin.conftest import run_jobs
from tests.nuanxin.notifications.conftest import Wired

PHONE = "13987654321"
CODE = "40718263"


async def code_sms(subject: str = "visit:1", recipient: str = "household:1") -> int | None:
    return await notify(
        kind=Kind.visit_code,
        subject=subject,
        recipient=recipient,
        channel=Channel.sms,
        address=PHONE,
        language=Language.zh,
        params={"date": "12月3日", "code": CODE, "hotline": "0451-12345"},
        region_code="230111",
    )


async def row(notification_id: int) -> dict[str, object]:
    found = await Notification.select().where(Notification.id == notification_id).first().run()
    assert found is not None
    return dict(found)


async def test_a_household_gets_its_code_by_sms_through_each_provider(
    db: None, wired: Wired
) -> None:
    notification_id = await code_sms()
    assert notification_id is not None
    assert await run_jobs() == 1
    [sent] = wired.sms.sent
    assert sent.phone.endswith(PHONE)
    assert sent.template_id == "T_visit_code_zh"
    values = sent.params if isinstance(sent.params, list) else list(sent.params.values())
    assert values == ["12月3日", CODE, "0451-12345"]
    stored = await row(notification_id)
    assert stored["status"] == Status.sent
    assert stored["sent_at"] is not None
    assert CODE not in str(stored["params"]), "the code is erased once sent"
    assert str(stored["provider_ref"]).startswith(wired.settings.sms_provider + ":")


async def test_the_code_is_kept_encrypted_until_the_message_is_sent(
    db: None, aliyun_wired: Wired
) -> None:
    notification_id = await code_sms()
    assert notification_id is not None
    waiting = await row(notification_id)
    assert CODE not in str(waiting["params"])
    assert "sealed:" in str(waiting["params"])
    await run_jobs()
    assert aliyun_wired.sms.sent[0].params == {
        "date": "12月3日",
        "code": CODE,
        "hotline": "0451-12345",
    }


async def test_a_message_enqueued_twice_is_written_once_and_sent_once(
    db: None, aliyun_wired: Wired
) -> None:
    first = await code_sms()
    again = await code_sms()
    assert first is not None and again is None
    assert await Notification.count().where(Notification.subject == "visit:1").run() == 1
    await run_jobs()
    assert len(aliyun_wired.sms.sent) == 1


async def test_two_jobs_for_one_message_send_it_once(db: None, aliyun_wired: Wired) -> None:
    notification_id = await code_sms()
    async with atomic():  # a worker retried the job, or a sweep deferred it again
        await defer(TaskName.send_notification, notification_id=notification_id)
    assert await run_jobs() == 2
    assert len(aliyun_wired.sms.sent) == 1


async def test_a_throttled_message_waits_and_is_sent_on_the_next_attempt(
    db: None, wired: Wired
) -> None:
    wired.sms.refusals.append(
        "isv.BUSINESS_LIMIT_CONTROL"
        if wired.settings.sms_provider == "aliyun"
        else "LimitExceeded.PhoneNumberThirtySecondLimit"
    )
    notification_id = await code_sms()
    assert notification_id is not None
    before = datetime.now(UTC)
    await run_jobs()
    waiting = await row(notification_id)
    assert waiting["status"] == Status.retrying
    assert waiting["attempts"] == 1
    next_at = waiting["next_attempt_at"]
    assert isinstance(next_at, datetime)
    assert next_at >= before + timedelta(seconds=BACKOFF_SECONDS[0] - 1)
    assert await retry_due(now=datetime.now(UTC)) == 0, "not before its time"
    assert await run_jobs() == 0
    # the minute passes
    await (
        Notification.update({Notification.next_attempt_at: before - timedelta(seconds=1)})
        .where(Notification.id == notification_id)
        .run()
    )
    assert await retry_due(now=datetime.now(UTC)) == 1
    await run_jobs()
    done = await row(notification_id)
    assert (done["status"], done["attempts"]) == (Status.sent, 2)
    assert len(wired.sms.sent) == 1


async def test_the_wait_grows_and_the_last_attempt_gives_up_for_staff_to_see(
    db: None, aliyun_wired: Wired
) -> None:
    aliyun_wired.sms.refusals.extend(["isp.SYSTEM_ERROR"] * MAX_ATTEMPTS)
    notification_id = await code_sms()
    assert notification_id is not None
    waits = []
    for _ in range(MAX_ATTEMPTS):
        attempt_at = datetime.now(UTC)
        await run_jobs()
        current = await row(notification_id)
        if current["status"] != Status.retrying:
            break
        next_at = current["next_attempt_at"]
        assert isinstance(next_at, datetime)
        waits.append(round((next_at - attempt_at).total_seconds()))
        await (
            Notification.update({Notification.next_attempt_at: attempt_at})
            .where(Notification.id == notification_id)
            .run()
        )
        await retry_due(now=datetime.now(UTC))
    assert waits == list(BACKOFF_SECONDS)
    failed = await row(notification_id)
    assert (failed["status"], failed["attempts"]) == (Status.failed, MAX_ATTEMPTS)
    assert "isp.SYSTEM_ERROR" in str(failed["last_error"])
    assert CODE not in str(failed["params"])
    assert aliyun_wired.sms.sent == []


async def test_a_number_the_provider_refuses_fails_at_once(db: None, wired: Wired) -> None:
    wired.sms.refusals.append(
        "isv.MOBILE_NUMBER_ILLEGAL"
        if wired.settings.sms_provider == "aliyun"
        else "InvalidParameterValue.IncorrectPhoneNumber"
    )
    notification_id = await code_sms()
    assert notification_id is not None
    await run_jobs()
    failed = await row(notification_id)
    assert (failed["status"], failed["attempts"]) == (Status.failed, 1)


async def test_a_household_that_opted_out_is_skipped_and_no_job_is_queued(
    db: None, aliyun_wired: Wired
) -> None:
    await set_preference("household:1", opted_out=True)
    notification_id = await code_sms()
    assert notification_id is not None
    skipped = await row(notification_id)
    assert (skipped["status"], skipped["last_error"]) == (Status.skipped, "opted_out")
    assert CODE not in str(skipped["params"])
    assert await run_jobs() == 0
    assert aliyun_wired.sms.sent == []


async def test_opting_out_after_the_message_was_queued_still_stops_it(
    db: None, aliyun_wired: Wired
) -> None:
    notification_id = await code_sms()
    assert notification_id is not None
    await set_preference("household:1", opted_out=True)
    await run_jobs()
    assert (await row(notification_id))["status"] == Status.skipped
    assert aliyun_wired.sms.sent == []
    await set_preference("household:1", opted_out=False)
    assert await code_sms(subject="visit:2") is not None
    await run_jobs()
    assert len(aliyun_wired.sms.sent) == 1, "opting back in sends the next message"


async def test_email_goes_to_the_local_smtp_server_in_the_recipients_language(
    db: None, aliyun_wired: Wired
) -> None:
    for language, address in ((Language.zh, "donor@example.org"), (Language.en, "d2@example.org")):
        await notify(
            kind=Kind.donor_delivered,
            subject=f"donation:1:county:230111:{language}",
            recipient=f"email:{language}",
            channel=Channel.email,
            address=address,
            language=language,
            params={"county": "呼兰区", "item": "棉被" if language == "zh" else "quilt"},
        )
    assert await run_jobs() == 2
    chinese, english = aliyun_wired.inbox.messages
    assert chinese["Subject"] == "您的捐赠已送达呼兰区"
    assert "呼兰区的一户困难家庭" in chinese.get_content()
    assert english["Subject"] == "Your gift was delivered in 呼兰区"
    assert english["To"] == "d2@example.org"


async def test_without_a_provider_a_message_is_skipped_not_failed(db: None) -> None:
    from nuanxin.notifications import outbox
    from nuanxin.settings import Settings

    outbox.configure(Settings.from_env({"NUANXIN_VAR_DIR": "/tmp/nuanxin-no-provider"}))
    try:
        notification_id = await code_sms()
        assert notification_id is not None
        await run_jobs()
        skipped = await row(notification_id)
        assert skipped["status"] == Status.skipped
        assert "no sms provider" in str(skipped["last_error"])
    finally:
        outbox.reset()


async def test_logs_mask_the_phone_and_never_carry_the_code(
    db: None, wired: Wired, caplog: pytest.LogCaptureFixture
) -> None:
    install_log_redaction()  # as the app and the worker do at start
    caplog.set_level(logging.DEBUG)  # the SDKs' and the database driver's debug lines too
    wired.sms.refusals.append(
        "isp.SYSTEM_ERROR" if wired.settings.sms_provider == "aliyun" else "InternalError.Timeout"
    )
    notification_id = await code_sms()
    assert notification_id is not None
    await run_jobs()
    await (
        Notification.update({Notification.next_attempt_at: datetime.now(UTC)})
        .where(Notification.id == notification_id)
        .run()
    )
    await retry_due(now=datetime.now(UTC) + timedelta(seconds=1))
    await run_jobs()
    assert len(wired.sms.sent) == 1
    ours = [r for r in caplog.records if r.name.startswith("nuanxin")]
    assert any("139****4321" in r.getMessage() for r in ours), "the masked phone names it"
    for record in caplog.records:
        text = record.getMessage() + (record.exc_text or "")
        assert PHONE not in text, (record.name, text)
        assert CODE not in text, (record.name, text)


async def test_messages_that_ended_are_forgotten_after_ninety_days_with_their_address(
    db: None, aliyun_wired: Wired
) -> None:
    sent = await code_sms()
    await run_jobs()
    aliyun_wired.sms.refusals.append("isp.SYSTEM_ERROR")
    waiting = await code_sms(subject="visit:2")
    await run_jobs()
    assert sent is not None and waiting is not None
    assert await forget_old(now=datetime.now(UTC) + timedelta(days=89)) == 0
    assert await forget_old(now=datetime.now(UTC) + timedelta(days=91)) == 1
    remaining = await Notification.select(Notification.id).run()
    assert [r["id"] for r in remaining] == [waiting], "one still to retry is kept"
