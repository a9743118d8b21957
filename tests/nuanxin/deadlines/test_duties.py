"""The periodic duties record what is past due, once, and are safe to run twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from nuanxin.deadlines.services import Kept, forget_resolved, keep, open_notices
from nuanxin.deadlines.tables import DeadlineNotice
from nuanxin.deadlines.vocabulary import NoticeKind
from nuanxin.households.tables import Household
from nuanxin.jobs.tasks import PERIODIC, TASKS
from nuanxin.jobs.vocabulary import TaskName
from tests.nuanxin.loop_world import COUNTY, add_household, build_loop

NOW = datetime.now(UTC)


async def test_a_lapsed_verification_is_noticed_once_however_often_the_duty_runs(
    db: None,
) -> None:
    loop = await build_loop()
    lapsed = await add_household(loop, "HL1", (COUNTY[0], COUNTY[1] + 0.01), expired=True)
    await add_household(loop, "HL2", (COUNTY[0], COUNTY[1] + 0.02))
    assert await keep(NoticeKind.verification_expired, now=NOW) == Kept(noticed=1, resolved=0)
    assert await keep(NoticeKind.verification_expired, now=NOW) == Kept(noticed=0, resolved=0)
    assert await open_notices(NoticeKind.verification_expired) == [lapsed]
    assert await open_notices(NoticeKind.verification_expired, region_prefix="99") == []
    assert await DeadlineNotice.count().run() == 1


async def test_a_notice_is_resolved_when_its_record_is_dealt_with_and_opened_again_if_due(
    db: None,
) -> None:
    loop = await build_loop()
    lapsed = await add_household(loop, "HL1", (COUNTY[0], COUNTY[1] + 0.01), expired=True)
    await keep(NoticeKind.verification_expired, now=NOW)
    renewed = NOW + timedelta(days=365)
    await (
        Household.update({Household.verification_expires_at: renewed})
        .where(Household.id == lapsed)
        .run()
    )
    assert await keep(NoticeKind.verification_expired, now=NOW) == Kept(noticed=0, resolved=1)
    assert await keep(NoticeKind.verification_expired, now=NOW) == Kept(noticed=0, resolved=0)
    assert await open_notices(NoticeKind.verification_expired) == []
    later = renewed + timedelta(days=1)
    assert await keep(NoticeKind.verification_expired, now=later) == Kept(noticed=1, resolved=0)
    assert await DeadlineNotice.count().run() == 1, "one notice per record, reopened"


async def test_resolved_notices_are_forgotten_after_ninety_days(db: None) -> None:
    loop = await build_loop()
    lapsed = await add_household(loop, "HL1", (COUNTY[0], COUNTY[1] + 0.01), expired=True)
    await keep(NoticeKind.verification_expired, now=NOW)
    await (
        Household.update({Household.verification_expires_at: NOW + timedelta(days=9)})
        .where(Household.id == lapsed)
        .run()
    )
    await keep(NoticeKind.verification_expired, now=NOW)
    assert await forget_resolved(now=NOW + timedelta(days=89)) == 0
    assert await forget_resolved(now=NOW + timedelta(days=91)) == 1
    assert await forget_resolved(now=NOW + timedelta(days=91)) == 0


async def test_every_periodic_duty_runs_twice_without_complaint(db: None) -> None:
    loop = await build_loop()
    await add_household(loop, "HL1", (COUNTY[0], COUNTY[1] + 0.01), expired=True)
    for duty in PERIODIC:
        await TASKS[duty.task]()
        await TASKS[duty.task]()
    on_demand = {TaskName.run_round, TaskName.send_notification, TaskName.visit_delivered}
    assert {duty.task for duty in PERIODIC} == set(TaskName) - on_demand
    assert await open_notices(NoticeKind.verification_expired) != []
