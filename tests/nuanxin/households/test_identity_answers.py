"""An ID number's refusals and what is kept of it (issue 19): exact, and in China's date."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from nuanxin.errors import Invalid
from nuanxin.households import identity
from nuanxin.households.identity import (
    IdNumberError,
    check_character,
    id_number_hash,
    identity_of,
    normalise_id_number,
    without_papers,
)
from nuanxin.identity import keyed_hash

KEY = "a-test-key"
NUMBER = "11010519491231002X"


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("1101051949123100", "an ID number has 18 characters"),
        ("11010519491231002A", "an ID number is 17 digits (0-9) followed by a digit or X"),
        ("110105194913310021", "the birth date in the ID number is not a date"),
        ("110105219912310021", "the birth date in the ID number is not plausible"),
        ("110105194912310021", "the check character of the ID number does not match"),
    ],
)
def test_each_refusal_says_exactly_why(number: str, message: str) -> None:
    with pytest.raises(IdNumberError) as refused:
        normalise_id_number(number)
    assert str(refused.value) == message


def test_a_refused_number_is_a_400_on_the_named_field() -> None:
    with pytest.raises(Invalid) as refused:
        identity_of("110105194912310021", secret_key=KEY, field="head_id_number")
    assert refused.value.field == "head_id_number"
    assert refused.value.error == "validation_error"
    assert refused.value.message_id == "bad_id_number"
    assert refused.value.detail == (
        "head_id_number: the check character of the ID number does not match"
    )
    with pytest.raises(Invalid) as default:
        identity_of("1", secret_key=KEY)
    assert default.value.field == "id_number"
    assert default.value.detail == "id_number: an ID number has 18 characters"


def test_what_is_kept_is_the_keyed_hash_of_the_normalised_number_and_its_last_four() -> None:
    kept = identity_of(" 1101 0519 4912 3100 2x ", secret_key=KEY)
    assert kept.id_last4 == "002X"
    assert kept.id_hash == keyed_hash(KEY, NUMBER) == id_number_hash(KEY, NUMBER)
    assert identity_of(NUMBER, secret_key="another-key").id_hash != kept.id_hash


def test_a_check_character_needs_exactly_seventeen_digits() -> None:
    with pytest.raises(ValueError):
        check_character("1101051949123100")
    with pytest.raises(ValueError):
        check_character("110105194912310020")


def test_the_birth_date_is_bounded_by_the_date_in_china(monkeypatch: pytest.MonkeyPatch) -> None:
    evening = datetime(2026, 11, 30, 20, 0, tzinfo=UTC)  # already 1 December in Beijing

    class Clock(datetime):
        @classmethod
        def now(cls, tz: timezone | None = None) -> Clock:  # type: ignore[override]
            moment = evening if tz is None else evening.astimezone(tz)
            return cls.fromtimestamp(moment.timestamp(), tz) if tz else cls(2026, 11, 30, 20)

    monkeypatch.setattr(identity, "datetime", Clock)
    assert identity.today_in_china() == date(2026, 12, 1)
    born_today = "110105" + "20261201" + "001"
    normalise_id_number(born_today + check_character(born_today))
    tomorrow = date(2026, 12, 1) + timedelta(days=1)
    born_tomorrow = "110105" + tomorrow.strftime("%Y%m%d") + "001"
    with pytest.raises(IdNumberError):
        normalise_id_number(born_tomorrow + check_character(born_tomorrow))


def test_a_person_without_papers_is_kept_under_their_name_and_address_however_spaced() -> None:
    kept = without_papers(head_name=" 张三 ", current_address="呼兰区某村1号\n", secret_key=KEY)
    assert kept.id_last4 == "", "no number, so no last four characters"
    # The stored form: changing it would part a person from the hash already kept for them.
    assert kept.id_hash == keyed_hash(KEY, "without papers\n张三\n呼兰区某村1号")
    again = without_papers(head_name="张三", current_address="呼兰区某村1号", secret_key=KEY)
    assert again == kept
    moved = without_papers(head_name="张三", current_address="呼兰区某村2号", secret_key=KEY)
    assert moved.id_hash != kept.id_hash
    other_key = without_papers(head_name="张三", current_address="呼兰区某村1号", secret_key="k2")
    assert other_key.id_hash != kept.id_hash


@pytest.mark.parametrize(
    ("moment", "day"),
    [
        (datetime(2026, 11, 30, 15, 59, 59, tzinfo=UTC), date(2026, 11, 30)),
        (datetime(2026, 11, 30, 16, 0, 0, tzinfo=UTC), date(2026, 12, 1)),
    ],
)
def test_chinas_date_turns_at_sixteen_hours_utc(
    monkeypatch: pytest.MonkeyPatch, moment: datetime, day: date
) -> None:
    class Clock(datetime):
        @classmethod
        def now(cls, tz: timezone | None = None) -> Clock:  # type: ignore[override]
            assert tz is not None, "China's date is never read from the server's local clock"
            return cls.fromtimestamp(moment.timestamp(), tz)

    monkeypatch.setattr(identity, "datetime", Clock)
    assert identity.today_in_china() == day


def test_the_birth_date_is_bounded_by_the_day_given_not_the_clock() -> None:
    then = date(2020, 6, 15)
    born = "110105" + "20200616" + "001"
    with pytest.raises(IdNumberError, match="plausible"):
        normalise_id_number(born + check_character(born), today=then)
    born = "110105" + "20200615" + "001"
    assert normalise_id_number(born + check_character(born), today=then)[6:14] == "20200615"
