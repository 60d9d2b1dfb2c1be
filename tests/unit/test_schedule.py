"""Cron parsing, UTC fire times, intervals, previews and catch-up plans (hydra_jobs.schedule)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from functools import partial
from zoneinfo import ZoneInfo

import pytest
from croniter import croniter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hydra_jobs.errors import HydraError, InvalidInput
from hydra_jobs.schedule import (
    Catchup,
    CatchupPlan,
    CronSchedule,
    ScheduleError,
    next_interval_fire,
    plan_catchup,
    plan_due_slots,
    preview_cron,
    validate_timezone,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)  # a Thursday


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def fires(expression: str, after: datetime, count: int, timezone: str = "UTC") -> list[datetime]:
    return preview_cron(expression, timezone, after, count)


# --- parsing: what is accepted ---------------------------------------------------------------


def test_parse_keeps_the_expression_and_timezone() -> None:
    schedule = CronSchedule.parse("  0 2 * * *  ", "Europe/Berlin")
    assert (schedule.expression, schedule.timezone, schedule.has_seconds) == (
        "0 2 * * *",
        "Europe/Berlin",
        False,
    )
    assert CronSchedule.parse("0 2 * * *").timezone == "UTC"
    assert CronSchedule.parse("0 0 2 * * *").has_seconds
    assert CronSchedule.parse("0 2 * * *") == CronSchedule.parse("0 2 * * *")


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("*/15 * * * *", [utc(2026, 1, 1, 0, 15), utc(2026, 1, 1, 0, 30), utc(2026, 1, 1, 0, 45)]),
        (
            "5,10-12 3 * * *",
            [utc(2026, 1, 1, 3, 5), utc(2026, 1, 1, 3, 10), utc(2026, 1, 1, 3, 11)],
        ),
        (
            "10-40/15 * * * *",
            [utc(2026, 1, 1, 0, 10), utc(2026, 1, 1, 0, 25), utc(2026, 1, 1, 0, 40)],
        ),
        ("50/5 0 * * *", [utc(2026, 1, 1, 0, 50), utc(2026, 1, 1, 0, 55), utc(2026, 1, 2, 0, 50)]),
        ("0 12 * * MON-FRI", [utc(2026, 1, 1, 12), utc(2026, 1, 2, 12), utc(2026, 1, 5, 12)]),
        ("0 12 * * mon,wed", [utc(2026, 1, 5, 12), utc(2026, 1, 7, 12), utc(2026, 1, 12, 12)]),
        ("0 0 * * 7", [utc(2026, 1, 4), utc(2026, 1, 11), utc(2026, 1, 18)]),
        ("0 0 * * 5-7", [utc(2026, 1, 2), utc(2026, 1, 3), utc(2026, 1, 4)]),
        ("0 0 1 feb,AUG *", [utc(2026, 2, 1), utc(2026, 8, 1), utc(2027, 2, 1)]),
        ("0 0 1 */4 *", [utc(2026, 5, 1), utc(2026, 9, 1), utc(2027, 1, 1)]),
        ("0 0 31 * *", [utc(2026, 1, 31), utc(2026, 3, 31), utc(2026, 5, 31)]),
        ("0 0 29 2 *", [utc(2028, 2, 29), utc(2032, 2, 29), utc(2036, 2, 29)]),
        ("0 0 ? * SUN", [utc(2026, 1, 4), utc(2026, 1, 11), utc(2026, 1, 18)]),
        ("0\t0\t1\t1\t*", [utc(2027, 1, 1), utc(2028, 1, 1), utc(2029, 1, 1)]),
    ],
)
def test_five_field_expressions(expression: str, expected: list[datetime]) -> None:
    assert fires(expression, T0, 3) == expected


def test_six_fields_put_seconds_first() -> None:
    assert fires("* * * * * *", T0, 3) == [utc(2026, 1, 1, 0, 0, s) for s in (1, 2, 3)]
    assert fires("*/20 * * * * *", T0, 3) == [
        utc(2026, 1, 1, 0, 0, 20),
        utc(2026, 1, 1, 0, 0, 40),
        utc(2026, 1, 1, 0, 1, 0),
    ]
    assert fires("30 0 2 * * *", T0, 2) == [utc(2026, 1, 1, 2, 0, 30), utc(2026, 1, 2, 2, 0, 30)]
    assert fires("0 0 12 * * ?", T0, 1) == [utc(2026, 1, 1, 12)]


@pytest.mark.parametrize(
    ("macro", "first"),
    [
        ("@yearly", utc(2027, 1, 1)),
        ("@annually", utc(2027, 1, 1)),
        ("@monthly", utc(2026, 2, 1)),
        ("@weekly", utc(2026, 1, 4)),
        ("@daily", utc(2026, 1, 2)),
        ("@midnight", utc(2026, 1, 2)),
        ("@hourly", utc(2026, 1, 1, 1)),
        ("@DAILY", utc(2026, 1, 2)),
    ],
)
def test_macros(macro: str, first: datetime) -> None:
    assert CronSchedule.parse(macro).next_after(T0) == first


def test_both_day_fields_restricted_means_either_vixie() -> None:
    # 13th of the month OR a Friday; Jan 2026: Fri 2, Fri 9, Tue 13, Fri 16.
    assert fires("0 0 13 * FRI", T0, 4) == [
        utc(2026, 1, 2),
        utc(2026, 1, 9),
        utc(2026, 1, 13),
        utc(2026, 1, 16),
    ]


def test_a_stepped_star_restricts_the_day_field() -> None:
    # '*/10' is days 1,11,21,31 and restricts (croniter, robfig/cron): OR with Mondays.
    assert fires("0 0 */10 * MON", T0, 4) == [
        utc(2026, 1, 5),
        utc(2026, 1, 11),
        utc(2026, 1, 12),
        utc(2026, 1, 19),
    ]
    # A plain '*' does not restrict: only Mondays.
    assert fires("0 0 * * MON", T0, 2) == [utc(2026, 1, 5), utc(2026, 1, 12)]
    # Only one day field restricted: that one alone.
    assert fires("0 0 13 * *", T0, 2) == [utc(2026, 1, 13), utc(2026, 2, 13)]


# --- parsing: what is rejected, and how -------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("0 25 * * *", "cron field 2 (hour) '25' is out of range 0-23"),
        ("60 * * * *", "cron field 1 (minute) '60' is out of range 0-59"),
        ("0 0 25 * * *", "cron field 3 (hour) '25' is out of range 0-23"),
        ("61 * * * * *", "cron field 1 (second) '61' is out of range 0-59"),
        ("0 0 0 * *", "cron field 3 (day-of-month) '0' is out of range 1-31"),
        ("0 0 * 13 *", "cron field 4 (month) '13' is out of range 1-12 or JAN-DEC"),
        (
            "0 0 * * 8",
            "cron field 5 (day-of-week) '8' is out of range 0-7 or SUN-SAT (0 and 7 are Sunday)",
        ),
        (
            "0 0 * FOO *",
            "cron field 4 (month) 'FOO' is not a number or a name; allowed: 1-12 or JAN-DEC",
        ),
        ("x * * * *", "cron field 1 (minute) 'x' is not a number; allowed: 0-59"),
        ("0 0 * * 5-1", "cron field 5 (day-of-week) range '5-1' runs backwards"),
        ("0 0 * * SAT-SUN", "cron field 5 (day-of-week) range 'SAT-SUN' runs backwards"),
        ("*/0 * * * *", "cron field 1 (minute) '*/0': the step after '/' must be a whole number"),
        ("*/ * * * *", "cron field 1 (minute) '*/': the step after '/'"),
        ("1,,2 * * * *", "cron field 1 (minute) '1,,2' has an empty list item"),
        ("-5 * * * *", "cron field 1 (minute) '-5' is missing a value"),
        ("0 0 L * *", "cron field 3 (day-of-month) 'L': 'L', 'W' and '#' are not supported"),
        ("0 0 15W * *", "cron field 3 (day-of-month) '15W': 'L', 'W' and '#' are not supported"),
        ("0 0 * * MON#2", "cron field 5 (day-of-week) 'MON#2': 'L', 'W' and '#' are not supported"),
        ("0 0 * * 5L", "'5L': 'L', 'W' and '#' are not supported"),
        ("? * * * *", "cron field 1 (minute) '?': '?' stands alone"),
        ("0 0 ?/2 * *", "'?/2': '?' stands alone"),
        ("0 0 * *", "a cron expression has 5 fields"),
        ("0 0 * * * * 2026", "6 with seconds first; got 7 in '0 0 * * * * 2026'"),
        ("@reboot", "unsupported cron macro '@reboot'; use one of @yearly, @annually"),
        ("@every 5m", "unsupported cron macro '@every 5m' (use interval_seconds"),
        ("", "the cron expression is empty"),
        ("   ", "the cron expression is empty"),
        ("0 0 30 2 *", "'0 0 30 2 *' never fires: day-of-month 30 does not occur"),
        ("0 0 31 4,6,9,11 *", "never fires"),
        ("0 \uff10 * * *", "cron field 2 (hour) '\uff10' is not a number"),  # fullwidth 0
        ("9999999999 * * * *", "cron field 1 (minute) '9999999999' is out of range 0-59"),
        ("*/99999 * * * *", "'*/99999': the step after '/' must be a whole number from 1 to 60"),
    ],
)
def test_bad_expressions_say_what_is_wrong(expression: str, message: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        CronSchedule.parse(expression)
    assert str(caught.value).startswith(message) or message in str(caught.value), str(caught.value)


def test_exact_messages() -> None:
    with pytest.raises(ScheduleError) as caught:
        CronSchedule.parse("0 25 * * *")
    assert str(caught.value) == "cron field 2 (hour) '25' is out of range 0-23"
    with pytest.raises(ScheduleError) as caught:
        CronSchedule.parse("0 0 * * *", "Mars/Base")
    assert str(caught.value) == (
        "unknown timezone 'Mars/Base'; use an IANA name like 'Europe/Berlin'"
    )


def test_feb_29_alone_is_valid_and_31_is_valid_with_a_long_month() -> None:
    CronSchedule.parse("0 0 29 2 *")
    CronSchedule.parse("0 0 31 2,3 *")
    CronSchedule.parse("0 0 30 2 MON")  # OR with Mondays: fires


def test_schedule_error_is_a_value_error_and_a_hydra_error() -> None:
    error = ScheduleError("x")
    assert isinstance(error, ValueError)
    assert isinstance(error, InvalidInput)
    assert isinstance(error, HydraError)
    assert ScheduleError().message == "The schedule is not valid."


# --- timezones -------------------------------------------------------------------------------


def test_validate_timezone_returns_the_zone() -> None:
    assert validate_timezone("Europe/Berlin") == ZoneInfo("Europe/Berlin")
    assert validate_timezone("UTC") == ZoneInfo("UTC")


@pytest.mark.parametrize(
    "name",
    [
        "Mars/Base",
        "",
        "America",
        "../etc/passwd",
        "/etc/localtime",
        "localtime",
        "posixrules",
        "Europe/Berlin ",
        "Europe//Berlin",
        "x" * 500,
    ],
)
def test_unknown_timezones_are_rejected(name: str) -> None:
    with pytest.raises(ScheduleError, match=r"^unknown timezone "):
        validate_timezone(name)


def test_a_wrongly_cased_timezone_gets_a_suggestion() -> None:
    with pytest.raises(ScheduleError) as caught:
        validate_timezone("europe/berlin")
    assert str(caught.value) == "unknown timezone 'europe/berlin'; did you mean 'Europe/Berlin'?"


def test_not_a_string_timezone() -> None:
    with pytest.raises(ScheduleError, match="unknown timezone None"):
        validate_timezone(None)  # type: ignore[arg-type]


# --- next_after / fires_between in UTC -------------------------------------------------------


def test_next_after_is_strictly_after() -> None:
    schedule = CronSchedule.parse("0 * * * *")
    assert schedule.next_after(utc(2026, 1, 1, 5)) == utc(2026, 1, 1, 6)
    assert schedule.next_after(utc(2026, 1, 1, 5) - timedelta(microseconds=1)) == utc(2026, 1, 1, 5)
    assert schedule.next_after(utc(2026, 1, 1, 5, 0, 0, 1)) == utc(2026, 1, 1, 6)


def test_next_after_returns_utc_for_any_aware_input() -> None:
    schedule = CronSchedule.parse("0 12 * * *", "Europe/Berlin")
    after = datetime(2026, 1, 1, 8, tzinfo=timezone(timedelta(hours=-5)))  # 13:00 UTC
    fire = schedule.next_after(after)
    assert fire == utc(2026, 1, 2, 11)
    assert fire.tzinfo is UTC


def test_year_and_month_rollover() -> None:
    assert fires("59 23 31 12 *", utc(2026, 12, 31, 23, 59), 1) == [utc(2027, 12, 31, 23, 59)]
    assert fires("0 0 * * *", utc(2026, 12, 31, 12), 1) == [utc(2027, 1, 1)]
    assert fires("59 59 23 28 2 *", utc(2027, 2, 28, 23, 59, 58), 2) == [
        utc(2027, 2, 28, 23, 59, 59),
        utc(2028, 2, 28, 23, 59, 59),
    ]


def test_naive_datetimes_are_rejected() -> None:
    schedule = CronSchedule.parse("* * * * *")
    with pytest.raises(ScheduleError, match="after must be a timezone-aware datetime"):
        schedule.next_after(datetime(2026, 1, 1))
    with pytest.raises(ScheduleError, match="end must be a timezone-aware datetime"):
        schedule.fires_between(T0, datetime(2026, 1, 2))  # raised at the call, not on iteration


def test_fires_between_is_half_open() -> None:
    schedule = CronSchedule.parse("0 * * * *")
    got = list(schedule.fires_between(utc(2026, 1, 1, 1), utc(2026, 1, 1, 4)))
    assert got == [utc(2026, 1, 1, 2), utc(2026, 1, 1, 3), utc(2026, 1, 1, 4)]
    assert list(schedule.fires_between(utc(2026, 1, 1, 4), utc(2026, 1, 1, 1))) == []
    assert list(schedule.fires_between(utc(2026, 1, 1, 4), utc(2026, 1, 1, 4))) == []


def test_no_fire_before_the_year_10000() -> None:
    schedule = CronSchedule.parse("0 0 29 2 *")
    assert schedule.next_after(utc(9995, 1, 1)) == utc(9996, 2, 29)
    with pytest.raises(ScheduleError, match="no fire time after 9996-02-29"):
        schedule.next_after(utc(9996, 2, 29))
    assert list(schedule.fires_between(utc(9990, 1, 1), datetime.max.replace(tzinfo=UTC))) == [
        utc(9992, 2, 29),
        utc(9996, 2, 29),
    ]
    every_second = CronSchedule.parse("* * * * * *")
    last = datetime.max.replace(tzinfo=UTC, microsecond=0)
    with pytest.raises(ScheduleError, match="no fire time"):
        every_second.next_after(last)


def test_every_second_for_a_day_is_linear() -> None:
    schedule = CronSchedule.parse("* * * * * *")
    got = list(schedule.fires_between(utc(2026, 6, 1), utc(2026, 6, 2)))
    assert len(got) == 86_400
    assert got[0] == utc(2026, 6, 1, 0, 0, 1)
    assert got[-1] == utc(2026, 6, 2)


# --- differential check against croniter (UTC: no DST, so the two must agree) ---------------

MINUTES = st.sampled_from(["*", "0", "*/7", "5,35", "10-50/20", "59", "0-4"])
HOURS = st.sampled_from(["*", "0", "23", "*/5", "9-17", "1,13"])
DAYS = st.sampled_from(["*", "1", "15", "29", "31", "*/10", "8-14", "?"])
MONTHS = st.sampled_from(["*", "2", "*/3", "JAN,JUL", "11-12", "feb"])
WEEKDAYS = st.sampled_from(["*", "0", "7", "MON", "1-5", "SAT,SUN", "*/2", "?"])
SECONDS = st.sampled_from(["0", "*/15", "59", "10-12"])


@st.composite
def cron_expressions(draw: st.DrawFn) -> str:
    fields = [draw(MINUTES), draw(HOURS), draw(DAYS), draw(MONTHS), draw(WEEKDAYS)]
    if draw(st.booleans()):
        fields.insert(0, draw(SECONDS))
    return " ".join(fields)


def _valid(expression: str) -> bool:
    try:
        CronSchedule.parse(expression)
    except ScheduleError:
        return False
    return True


@settings(max_examples=300, deadline=None, database=None)
@given(
    expression=cron_expressions().filter(_valid),
    start=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
)
def test_agrees_with_croniter_in_utc(expression: str, start: datetime) -> None:
    start = start.replace(microsecond=0, tzinfo=UTC)
    has_seconds = len(expression.split()) == 6
    reference = croniter(expression, start, second_at_beginning=has_seconds)
    expected = [reference.get_next(datetime).astimezone(UTC) for _ in range(5)]
    assert preview_cron(expression, "UTC", start, 5) == expected


# --- preview ---------------------------------------------------------------------------------


def test_preview_returns_count_fires_in_the_timezone() -> None:
    assert preview_cron("0 9 * * *", "Europe/Berlin", utc(2026, 7, 1), 2) == [
        utc(2026, 7, 1, 7),
        utc(2026, 7, 2, 7),
    ]
    assert len(preview_cron("* * * * *", "UTC", T0, 100)) == 100


@pytest.mark.parametrize("count", [0, -1, 101, True, 2.0])
def test_preview_count_is_1_to_100(count: int) -> None:
    with pytest.raises(ScheduleError, match="count must be a whole number from 1 to 100"):
        preview_cron("* * * * *", "UTC", T0, count)


def test_preview_rejects_bad_input_with_schedule_errors() -> None:
    with pytest.raises(ScheduleError, match="unknown timezone"):
        preview_cron("* * * * *", "Nowhere/City", T0, 1)
    with pytest.raises(ScheduleError, match="out of range"):
        preview_cron("99 * * * *", "UTC", T0, 1)
    with pytest.raises(ScheduleError, match="after must be a timezone-aware"):
        preview_cron("* * * * *", "UTC", datetime(2026, 1, 1), 1)


# --- intervals -------------------------------------------------------------------------------


def test_interval_aligns_to_the_anchor() -> None:
    anchor = utc(2026, 1, 1)
    assert next_interval_fire(anchor, 60, utc(2026, 1, 1, 0, 0, 30)) == utc(2026, 1, 1, 0, 1)
    assert next_interval_fire(anchor, 60, utc(2026, 1, 1, 0, 1)) == utc(2026, 1, 1, 0, 2)
    assert next_interval_fire(anchor, 60, anchor) == utc(2026, 1, 1, 0, 1)
    assert next_interval_fire(anchor, 0.25, anchor) == anchor + timedelta(milliseconds=250)


def test_interval_before_the_anchor_fires_at_the_anchor() -> None:
    anchor = utc(2026, 1, 1)
    assert next_interval_fire(anchor, 3600, utc(2025, 12, 1)) == anchor


def test_interval_does_not_drift_over_many_periods() -> None:
    anchor = utc(2026, 1, 1)
    after = anchor + timedelta(days=3650)
    assert next_interval_fire(anchor, 0.1, after) == after + timedelta(milliseconds=100)
    third = 1 / 3  # not a whole number of microseconds: rounded once, then exact
    assert next_interval_fire(anchor, third, anchor + timedelta(seconds=1)) == anchor + timedelta(
        microseconds=4 * 333_333
    )


def test_interval_uses_elapsed_time_not_wall_time_across_dst() -> None:
    new_york = ZoneInfo("America/New_York")
    anchor = datetime(2026, 3, 7, 12, tzinfo=new_york)  # 17:00 UTC, EST
    fire = next_interval_fire(anchor, 24 * 3600, datetime(2026, 3, 8, 0, tzinfo=new_york))
    assert fire == utc(2026, 3, 8, 17)  # 24 h later: 13:00 EDT, not 12:00 EDT
    assert fire.tzinfo is UTC


@pytest.mark.parametrize("interval", [0, -1, 0.0000001, float("nan"), float("inf"), True])
def test_interval_must_be_positive(interval: float) -> None:
    with pytest.raises(ScheduleError, match="interval_seconds must be"):
        next_interval_fire(T0, interval, T0)


def test_interval_needs_aware_datetimes() -> None:
    with pytest.raises(ScheduleError, match="anchor must be a timezone-aware"):
        next_interval_fire(datetime(2026, 1, 1), 60, T0)


# --- catch-up (S3 in docs/reliability.md) ----------------------------------------------------

MISSED = [utc(2026, 1, 1, h) for h in range(5)]


def test_catchup_none_fires_nothing_and_records_every_slot() -> None:
    assert plan_catchup(MISSED, Catchup.NONE) == CatchupPlan(fire=[], skipped=MISSED)


def test_catchup_latest_fires_only_the_newest() -> None:
    assert plan_catchup(MISSED, Catchup.LATEST) == CatchupPlan(
        fire=[MISSED[-1]], skipped=MISSED[:-1]
    )


def test_catchup_all_is_bounded_and_skips_the_oldest() -> None:
    assert plan_catchup(MISSED, Catchup.ALL) == CatchupPlan(fire=MISSED, skipped=[])
    assert plan_catchup(MISSED, Catchup.ALL, max_all=2) == CatchupPlan(
        fire=MISSED[3:], skipped=MISSED[:3]
    )
    many = [T0 + timedelta(minutes=m) for m in range(1000)]
    plan = plan_catchup(many, "all")
    assert plan.fire == many[-100:]
    assert plan.skipped == many[:-100]


def test_catchup_accounts_for_every_slot_once() -> None:
    shuffled = [MISSED[3], MISSED[0], MISSED[4], MISSED[0], MISSED[1], MISSED[2]]
    for policy in Catchup:
        plan = plan_catchup(shuffled, policy, max_all=3)
        assert sorted(plan.fire + plan.skipped) == MISSED
        assert plan.fire == sorted(plan.fire)


def test_catchup_with_nothing_missed() -> None:
    for policy in Catchup:
        assert plan_catchup([], policy) == CatchupPlan(fire=[], skipped=[])


def test_due_slots_past_the_grace_follow_the_policy_and_the_rest_fire_after_them() -> None:
    """The ticker's one plan, at start and after a stall: missed slots first, then on time."""
    now = utc(2026, 1, 1, 5, 0, 10)
    missed = [*MISSED, now - timedelta(seconds=30)]  # 30 s late counts as missed
    on_time = [now - timedelta(seconds=10), now - timedelta(seconds=29)]
    plan = partial(plan_due_slots, [*on_time, *missed], now, grace_seconds=30)
    assert plan(policy=Catchup.NONE) == CatchupPlan(fire=sorted(on_time), skipped=missed)
    assert plan(policy=Catchup.LATEST) == CatchupPlan(
        fire=[missed[-1], *sorted(on_time)], skipped=missed[:-1]
    )
    assert plan(policy=Catchup.ALL, max_all=2) == CatchupPlan(
        fire=[*missed[4:], *sorted(on_time)], skipped=missed[:4]
    )
    assert plan_due_slots(on_time, now, grace_seconds=30, policy="none") == CatchupPlan(
        fire=sorted(on_time), skipped=[]
    )


def test_catchup_accepts_the_plain_string_values() -> None:
    assert plan_catchup(MISSED, "latest").fire == [MISSED[-1]]


def test_catchup_rejects_unknown_policies_and_bounds() -> None:
    with pytest.raises(ScheduleError, match="unknown catch-up policy 'burst'; use one of none"):
        plan_catchup(MISSED, "burst")
    with pytest.raises(ScheduleError, match="max_all must be a whole number of at least 1"):
        plan_catchup(MISSED, Catchup.ALL, max_all=0)


@settings(
    max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    offsets=st.lists(st.integers(0, 10_000), max_size=300),
    policy=st.sampled_from(list(Catchup)),
    max_all=st.integers(1, 150),
)
def test_catchup_never_bursts_unless_asked(
    offsets: list[int], policy: Catchup, max_all: int
) -> None:
    missed = sorted({T0 + timedelta(minutes=m) for m in offsets})
    plan = plan_catchup(missed, policy, max_all)
    limit = {Catchup.NONE: 0, Catchup.LATEST: 1, Catchup.ALL: max_all}[policy]
    assert len(plan.fire) == min(limit, len(missed))
    assert plan.skipped + plan.fire == missed  # oldest skipped, newest fired, nothing lost
