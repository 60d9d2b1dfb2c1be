"""DST rules of cron schedules (S5 in docs/reliability.md): no double run, no lost run.

A wall-clock slot skipped by spring-forward fires once at the transition instant; a repeated wall
time fires once, at its first occurrence; slots that land on the same instant fire once. Exact
instants are asserted for America/New_York (2026-03-08, 2026-11-01), Europe/Berlin (2026-03-29,
2026-10-25), half-hour and midnight transitions, and checked against an independent brute-force
model on random expressions.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from croniter import croniter
from hypothesis import given, settings
from hypothesis import strategies as st

from hydra_jobs.schedule import CronSchedule

NY = "America/New_York"
BERLIN = "Europe/Berlin"
TICK = timedelta(microseconds=1)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def on_local_day(expression: str, timezone: str, year: int, month: int, day: int) -> list[datetime]:
    """Fires from local midnight (inclusive) to the next local midnight (exclusive)."""
    zone = ZoneInfo(timezone)
    start = datetime(year, month, day, tzinfo=zone)
    end = start + timedelta(days=1)  # wall-clock arithmetic: the next local midnight
    schedule = CronSchedule.parse(expression, timezone)
    return list(schedule.fires_between(start - TICK, end - TICK))


def hours_from(first: datetime, count: int) -> list[datetime]:
    return [first + timedelta(hours=h) for h in range(count)]


# --- America/New_York: the S5 cases ----------------------------------------------------------


def test_ny_0230_skipped_by_spring_forward_fires_once_at_the_transition() -> None:
    assert on_local_day("30 2 * * *", NY, 2026, 3, 8) == [utc(2026, 3, 8, 7)]  # 03:00 EDT


def test_ny_0230_around_spring_forward() -> None:
    schedule = CronSchedule.parse("30 2 * * *", NY)
    assert list(schedule.fires_between(utc(2026, 3, 6), utc(2026, 3, 10))) == [
        utc(2026, 3, 6, 7, 30),  # 02:30 EST
        utc(2026, 3, 7, 7, 30),  # 02:30 EST
        utc(2026, 3, 8, 7, 0),  # no 02:30: 03:00 EDT
        utc(2026, 3, 9, 6, 30),  # 02:30 EDT
    ]


def test_ny_0230_on_fall_back_day_fires_once() -> None:
    assert on_local_day("30 2 * * *", NY, 2026, 11, 1) == [utc(2026, 11, 1, 7, 30)]  # 02:30 EST


def test_ny_0130_repeated_by_fall_back_fires_once_at_the_first_occurrence() -> None:
    assert on_local_day("30 1 * * *", NY, 2026, 11, 1) == [utc(2026, 11, 1, 5, 30)]  # EDT
    schedule = CronSchedule.parse("30 1 * * *", NY)
    assert list(schedule.fires_between(utc(2026, 10, 31), utc(2026, 11, 3))) == [
        utc(2026, 10, 31, 5, 30),
        utc(2026, 11, 1, 5, 30),  # and not again at 06:30 UTC (01:30 EST)
        utc(2026, 11, 2, 6, 30),
    ]


def test_ny_0130_on_spring_forward_day_fires_once() -> None:
    assert on_local_day("30 1 * * *", NY, 2026, 3, 8) == [utc(2026, 3, 8, 6, 30)]  # 01:30 EST


def test_ny_hourly_on_spring_forward_day_fires_23_times() -> None:
    got = on_local_day("0 * * * *", NY, 2026, 3, 8)
    # 00:00, 01:00 EST; 02:00 does not exist and 03:00 EDT is the same instant: one fire.
    assert got == [utc(2026, 3, 8, 5), utc(2026, 3, 8, 6), *hours_from(utc(2026, 3, 8, 7), 21)]
    assert len(got) == 23
    assert len(set(got)) == 23
    assert max(b - a for a, b in pairwise(got)) == timedelta(hours=1)


def test_ny_hourly_on_fall_back_day_does_not_repeat_the_hour() -> None:
    got = on_local_day("0 * * * *", NY, 2026, 11, 1)
    # 00:00, 01:00 EDT; the repeated 01:00 EST (06:00 UTC) does not fire; then 02:00 EST on.
    assert got == [utc(2026, 11, 1, 4), utc(2026, 11, 1, 5), *hours_from(utc(2026, 11, 1, 7), 22)]
    assert len(got) == 24
    assert utc(2026, 11, 1, 6) not in got


def test_ny_slots_in_the_gap_and_at_its_end_are_one_fire() -> None:
    assert on_local_day("*/15 2 * * *", NY, 2026, 3, 8) == [utc(2026, 3, 8, 7)]
    assert on_local_day("0 2,3 * * *", NY, 2026, 3, 8) == [utc(2026, 3, 8, 7)]
    assert on_local_day("0 2 * * *", NY, 2026, 3, 8) == [utc(2026, 3, 8, 7)]
    assert on_local_day("0 3 * * *", NY, 2026, 3, 8) == [utc(2026, 3, 8, 7)]
    assert on_local_day("59 1 * * *", NY, 2026, 3, 8) == [utc(2026, 3, 8, 6, 59)]
    assert on_local_day("*/15 2 * * *", NY, 2026, 11, 1) == [
        utc(2026, 11, 1, 7, minute) for minute in (0, 15, 30, 45)
    ]


def test_ny_six_field_expressions_follow_the_same_rules() -> None:
    assert on_local_day("0 30 2 * * *", NY, 2026, 3, 8) == [utc(2026, 3, 8, 7)]
    assert on_local_day("15 30 1 * * *", NY, 2026, 11, 1) == [utc(2026, 11, 1, 5, 30, 15)]


def test_ny_every_second_through_both_transitions() -> None:
    spring = on_local_day("* * * * * *", NY, 2026, 3, 8)
    assert len(spring) == 23 * 3600  # the 3600 seconds of the gap collapse onto 07:00:00
    assert spring.count(utc(2026, 3, 8, 7)) == 1
    assert spring[spring.index(utc(2026, 3, 8, 7)) - 1] == utc(2026, 3, 8, 6, 59, 59)
    fall = on_local_day("* * * * * *", NY, 2026, 11, 1)
    assert len(fall) == 24 * 3600  # one fire per wall-clock second; the repeat is not re-run
    assert fall[fall.index(utc(2026, 11, 1, 5, 59, 59)) + 1] == utc(2026, 11, 1, 7)
    for fires in (spring, fall):
        assert all(a < b for a, b in pairwise(fires))


def test_ny_next_after_from_inside_the_repeated_hour() -> None:
    # 06:30 UTC is 01:30 EST, the second pass: every wall time of that hour has already fired.
    inside = utc(2026, 11, 1, 6, 30)
    assert CronSchedule.parse("*/15 * * * *", NY).next_after(inside) == utc(2026, 11, 1, 7)
    assert CronSchedule.parse("* * * * * *", NY).next_after(inside) == utc(2026, 11, 1, 7)
    assert CronSchedule.parse("45 1 * * *", NY).next_after(inside) == utc(2026, 11, 2, 6, 45)
    assert CronSchedule.parse("0 * * * *", NY).next_after(utc(2026, 11, 1, 5)) == utc(
        2026, 11, 1, 7
    )
    assert CronSchedule.parse("* * * * * *", NY).next_after(utc(2026, 11, 1, 5, 59, 59)) == utc(
        2026, 11, 1, 7
    )
    # From the first pass, the rest of the first pass still fires.
    assert CronSchedule.parse("45 1 * * *", NY).next_after(utc(2026, 11, 1, 5, 30)) == utc(
        2026, 11, 1, 5, 45
    )


def test_ny_next_after_at_the_spring_forward_instant() -> None:
    schedule = CronSchedule.parse("30 2 * * *", NY)
    assert schedule.next_after(utc(2026, 3, 8, 6, 59, 59, 999_999)) == utc(2026, 3, 8, 7)
    assert schedule.next_after(utc(2026, 3, 8, 7)) == utc(2026, 3, 9, 6, 30)
    every_minute = CronSchedule.parse("* * * * *", NY)
    assert every_minute.next_after(utc(2026, 3, 8, 6, 59)) == utc(2026, 3, 8, 7)
    assert every_minute.next_after(utc(2026, 3, 8, 7)) == utc(2026, 3, 8, 7, 1)


# --- Europe/Berlin: the same cases (gap 02:00-03:00 on 03-29, repeat 02:00-03:00 on 10-25) -----


def test_berlin_0230_skipped_fires_at_the_transition() -> None:
    assert on_local_day("30 2 * * *", BERLIN, 2026, 3, 29) == [utc(2026, 3, 29, 1)]  # 03:00 CEST


def test_berlin_0230_repeated_fires_once_at_the_first_occurrence() -> None:
    assert on_local_day("30 2 * * *", BERLIN, 2026, 10, 25) == [utc(2026, 10, 25, 0, 30)]  # CEST


def test_berlin_0130_is_unaffected_on_both_days() -> None:
    assert on_local_day("30 1 * * *", BERLIN, 2026, 3, 29) == [utc(2026, 3, 29, 0, 30)]
    assert on_local_day("30 1 * * *", BERLIN, 2026, 10, 25) == [utc(2026, 10, 24, 23, 30)]


def test_berlin_hourly_on_both_days() -> None:
    spring = on_local_day("0 * * * *", BERLIN, 2026, 3, 29)
    assert spring == [
        utc(2026, 3, 28, 23),
        utc(2026, 3, 29, 0),
        *hours_from(utc(2026, 3, 29, 1), 21),
    ]
    assert len(spring) == 23
    fall = on_local_day("0 * * * *", BERLIN, 2026, 10, 25)
    expected = [utc(2026, 10, 24, 22), utc(2026, 10, 24, 23), utc(2026, 10, 25, 0)]
    assert fall == expected + hours_from(utc(2026, 10, 25, 2), 21)
    assert len(fall) == 24
    assert utc(2026, 10, 25, 1) not in fall  # the repeated 02:00 CET


# --- UTC sanity: no DST, nothing special on those days ----------------------------------------


@pytest.mark.parametrize("day", [(2026, 3, 8), (2026, 11, 1), (2026, 3, 29), (2026, 10, 25)])
def test_utc_has_no_special_days(day: tuple[int, int, int]) -> None:
    assert on_local_day("30 2 * * *", "UTC", *day) == [utc(*day, 2, 30)]
    assert on_local_day("30 1 * * *", "UTC", *day) == [utc(*day, 1, 30)]
    assert on_local_day("0 * * * *", "UTC", *day) == hours_from(utc(*day), 24)


# --- other shapes of transition ---------------------------------------------------------------


def test_half_hour_transitions_lord_howe() -> None:
    # 2026-10-04 02:00 +10:30 -> 02:30 +11:00; 2026-04-05 02:00 +11:00 -> 01:30 +10:30.
    assert on_local_day("15 2 * * *", "Australia/Lord_Howe", 2026, 10, 4) == [
        utc(2026, 10, 3, 15, 30)
    ]
    assert on_local_day("45 1 * * *", "Australia/Lord_Howe", 2026, 4, 5) == [
        utc(2026, 4, 4, 14, 45)
    ]
    assert on_local_day("0 * * * *", "Australia/Lord_Howe", 2026, 4, 5)[:4] == [
        utc(2026, 4, 4, 13, 0),  # 00:00 +11
        utc(2026, 4, 4, 14, 0),  # 01:00 +11
        utc(2026, 4, 4, 15, 30),  # 02:00 +10:30
        utc(2026, 4, 4, 16, 30),
    ]


def test_midnight_transitions_havana_and_santiago() -> None:
    # Havana: 2026-03-08 00:00 -05 -> 01:00 -04; 2026-11-01 01:00 -04 -> 00:00 -05.
    assert on_local_day("@daily", "America/Havana", 2026, 3, 8) == [utc(2026, 3, 8, 5)]
    assert on_local_day("@daily", "America/Havana", 2026, 11, 1) == [utc(2026, 11, 1, 4)]
    # Santiago: 2026-09-06 00:00 -04 -> 01:00 -03; 2026-04-05 00:00 -03 -> 2026-04-04 23:00 -04.
    assert on_local_day("@daily", "America/Santiago", 2026, 9, 6) == [utc(2026, 9, 6, 4)]
    assert on_local_day("30 23 * * *", "America/Santiago", 2026, 4, 4) == [utc(2026, 4, 5, 2, 30)]


# --- properties on random expressions ---------------------------------------------------------

ZONES = [
    "UTC",
    NY,
    BERLIN,
    "Australia/Lord_Howe",
    "America/Havana",
    "America/Santiago",
    "Asia/Kolkata",
]


def _transitions(zone_name: str) -> list[datetime]:
    zone = ZoneInfo(zone_name)
    found, moment = [], utc(2025, 1, 1)
    previous = moment.astimezone(zone).utcoffset()
    while moment < utc(2028, 1, 1):
        moment += timedelta(minutes=30)
        offset = moment.astimezone(zone).utcoffset()
        if offset != previous:
            found.append(moment)
            previous = offset
    return found


TRANSITIONS = {zone: _transitions(zone) for zone in ZONES}
assert len(TRANSITIONS[NY]) == 6 and not TRANSITIONS["UTC"]

MINUTES = st.sampled_from(["*", "0", "30", "*/15", "59", "0-5", "10-40/10", "45"])
HOURS = st.sampled_from(["*", "0", "1", "2", "3", "23", "*/6", "1-3", "0,2", "2-4/2"])
DAYS = st.sampled_from(["*", "1", "8-14", "*/7", "25-31", "?"])
MONTHS = st.sampled_from(["*", "3", "3,4,9,10,11", "MAR-NOV", "*/2"])
WEEKDAYS = st.sampled_from(["*", "0", "SUN", "6", "1-5", "SAT,SUN", "?"])
SECONDS = st.sampled_from(["*", "0", "*/20", "59", "0-2"])


@st.composite
def cases(draw: st.DrawFn) -> tuple[str, str, datetime, datetime]:
    """An expression, a zone and a window (start, end], usually spanning a DST transition."""
    fields = [draw(MINUTES), draw(HOURS), draw(DAYS), draw(MONTHS), draw(WEEKDAYS)]
    has_seconds = draw(st.booleans())
    if has_seconds:
        fields.insert(0, draw(SECONDS))
    zone = draw(st.sampled_from(ZONES))
    transitions = TRANSITIONS[zone]
    if transitions and draw(st.integers(0, 3)):
        centre = draw(st.sampled_from(transitions))
    else:
        centre = draw(st.datetimes(datetime(2025, 2, 1), datetime(2027, 11, 1))).replace(tzinfo=UTC)
    reach = 2 * 3600 if has_seconds else 2 * 86400  # seconds
    start = centre + timedelta(seconds=draw(st.integers(-reach, reach // 4)))
    start += timedelta(microseconds=draw(st.sampled_from([0, 0, 1, 500_000])))
    end = start + timedelta(seconds=draw(st.integers(0, reach)))
    return " ".join(fields), zone, start, end


@settings(max_examples=400, deadline=None, database=None)
@given(case=cases())
def test_fires_between_is_the_next_after_chain(case: tuple[str, str, datetime, datetime]) -> None:
    expression, zone, start, end = case
    schedule = CronSchedule.parse(expression, zone)
    got = list(schedule.fires_between(start, end))
    previous = start
    for fire in got:
        assert fire.tzinfo is UTC
        assert start < fire <= end
        assert fire == schedule.next_after(previous)  # strictly ascending, so unique
        previous = fire
    assert schedule.next_after(previous) > end  # nothing left out at the end


def _wall_matcher(expression: str) -> Callable[[datetime], bool]:
    """An independent reading of the expression: croniter's parser, Vixie day rule, no hydra."""
    fields = expression.split()
    has_seconds = len(fields) == 6
    expanded, _ = croniter.expand(expression, second_at_beginning=has_seconds)
    if has_seconds:  # croniter returns seconds last
        expanded = [expanded[5], *expanded[:5]]
        day_fields = fields[3], fields[5]
    else:
        expanded = [[0], *expanded]
        day_fields = fields[2], fields[4]
    full = [range(60), range(60), range(24), range(1, 32), range(1, 13), range(7)]
    sec, minute, hour, dom, month, dow = (
        set(r) if "*" in values else {int(v) % 7 if r is full[5] else int(v) for v in values}
        for values, r in zip(expanded, full, strict=True)
    )
    dom_any, dow_any = (text in ("*", "?") for text in day_fields)

    def matches(wall: datetime) -> bool:
        in_dom, in_dow = wall.day in dom, (wall.weekday() + 1) % 7 in dow
        if dom_any or dow_any:
            day_ok = (dom_any or in_dom) and (dow_any or in_dow)
        else:
            day_ok = in_dom or in_dow
        return (
            day_ok
            and wall.second in sec
            and wall.minute in minute
            and wall.hour in hour
            and wall.month in month
        )

    return matches


def _brute_force(expression: str, zone_name: str, start: datetime, end: datetime) -> list[datetime]:
    """Walk UTC instants one step at a time and apply the DST rules (schedule.py) literally."""
    zone = ZoneInfo(zone_name)
    matches = _wall_matcher(expression)
    step = timedelta(seconds=1 if len(expression.split()) == 6 else 60)
    moment = start.replace(microsecond=0)
    if step.seconds == 60:
        moment = moment.replace(second=0)
    while moment <= start:  # the first instant on the step grid inside (start, end]
        moment += step
    previous_wall = (moment - step).astimezone(zone).replace(tzinfo=None)
    fires = []
    while moment <= end:
        local = moment.astimezone(zone)
        wall = local.replace(tzinfo=None)
        fire = matches(wall) and local.fold == 0  # fold=1: the second pass of a repeated time
        skipped = previous_wall + step
        while skipped < wall:  # wall times jumped over by spring-forward fire now, once
            fire = fire or matches(skipped)
            skipped += step
        if fire:
            fires.append(moment)
        previous_wall = wall
        moment += step
    return fires


@settings(max_examples=300, deadline=None, database=None)
@given(case=cases())
def test_agrees_with_a_brute_force_model(case: tuple[str, str, datetime, datetime]) -> None:
    expression, zone, start, end = case
    if len(expression.split()) == 6:
        end = min(end, start + timedelta(hours=3))
    expected = _brute_force(expression, zone, start, end)
    assert list(CronSchedule.parse(expression, zone).fires_between(start, end)) == expected
