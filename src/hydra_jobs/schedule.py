"""Scheduling math: cron and interval fire times and catch-up plans (pure: no I/O, no clock reads).

Cron expressions are matched on the job's local wall clock (an IANA timezone) and every fire is
returned as an aware UTC instant. What daylight-saving changes do is fixed here (S5 in
docs/reliability.md); the rules below are tested case by case in
``tests/unit/test_schedule_dst.py``:

===============================  ===========================================  =====================
Wall-clock slot                  Fires                                        America/New_York
===============================  ===========================================  =====================
exists once                      at that instant                              ordinary days
skipped by spring-forward (gap)  once, at the transition instant (the first   2026-03-08 02:30 ->
                                 existing local time after the gap)           03:00 EDT, 07:00 UTC
repeated by fall-back            once, at its first occurrence (fold=0); the  2026-11-01 01:30 ->
                                 second pass through the hour fires nothing   01:30 EDT, 05:30 UTC
several slots, same instant      once (deduplicated)                          02:00 and 03:00 on
                                                                              03-08 -> one 07:00
===============================  ===========================================  =====================

Consequences, chosen on purpose: ``0 * * * *`` fires 23 times on 2026-03-08 and 24 times on
2026-11-01, where 01:00 EDT (05:00 UTC) is followed by 02:00 EST (07:00 UTC) with nothing at
06:00 UTC; an every-minute or every-second job pauses for the repeated hour. Jobs that need exact
spacing use an interval schedule, which is measured on a monotonic clock, not a wall clock.

Cron syntax: 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first
(Quartz/dkron style). Each field takes ``*``, numbers, ``a-b`` ranges, ``,`` lists and ``/n``
steps (``*/n``, ``a-b/n``, ``a/n`` = ``a-max/n``); months take JAN-DEC, days of the week SUN-SAT,
and 0 and 7 are both Sunday. ``?`` means ``*`` in the two day fields. Macros: @yearly @annually
@monthly @weekly @daily @midnight @hourly. ``L``, ``W``, ``#``, @reboot and @every are rejected.
When both day fields are restricted a day matches either of them (Vixie cron); a day field counts
as unrestricted only when it is exactly ``*``, ``?`` or ``*/1`` (so ``*/2`` restricts, as in
croniter and robfig/cron).

The matcher is our own, not croniter's, because croniter fires a repeated wall time twice
(``30 1 * * *`` at 05:30 and 06:30 UTC on 2026-11-01 in New York); the tests use croniter as an
independent reference where DST cannot differ (UTC) and for parsing in a brute-force DST model.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left
from calendar import monthrange
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from itertools import islice
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from hydra_jobs.errors import InvalidInput

ONE_SECOND = timedelta(seconds=1)
MAX_PREVIEW = 100  # fire times per preview
MAX_YEAR = 9999  # the last year a datetime can hold
DAY_CACHE_SIZE = 512  # (year, month) entries kept per parsed expression

MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAY_NAMES = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_UNRESTRICTED = frozenset({"*", "?", "*/1"})
_DIGITS = re.compile(r"[0-9]+")
_TZ_NAME = re.compile(r"[A-Za-z0-9_+-]+(?:/[A-Za-z0-9_+-]+)*")
_HOST_DEPENDENT_ZONES = frozenset({"localtime", "posixrules"})


class ScheduleError(InvalidInput, ValueError):
    """The schedule is not valid."""


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    low: int
    high: int
    allowed: str  # shown in errors
    names: tuple[str, ...] = ()  # names[i] means low + i
    is_day: bool = False


_SECOND = _Field("second", 0, 59, "0-59")
_MINUTE = _Field("minute", 0, 59, "0-59")
_HOUR = _Field("hour", 0, 23, "0-23")
_DOM = _Field("day-of-month", 1, 31, "1-31", is_day=True)
_MONTH = _Field("month", 1, 12, "1-12 or JAN-DEC", _MONTH_NAMES)
_DOW = _Field("day-of-week", 0, 7, "0-7 or SUN-SAT (0 and 7 are Sunday)", _DAY_NAMES, True)
_FIVE_FIELDS = (_MINUTE, _HOUR, _DOM, _MONTH, _DOW)


@dataclass(frozen=True, slots=True)
class _Matcher:
    """The expanded fields of one expression; finds matching wall-clock times."""

    seconds: tuple[int, ...]
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: tuple[int, ...]
    months: tuple[int, ...]
    weekdays: tuple[int, ...]  # 0 = Sunday
    any_day: bool  # day-of-month field unrestricted
    any_weekday: bool
    _days_cache: dict[tuple[int, int], tuple[int, ...]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def days_in(self, year: int, month: int) -> tuple[int, ...]:
        """Matching days of one month, ascending."""
        days = self._days_cache.get((year, month))
        if days is None:
            weekday_of_first, length = monthrange(year, month)  # Monday = 0
            days = tuple(
                day
                for day in range(1, length + 1)
                if self._day_matches(day, (weekday_of_first + day) % 7)  # cron: Sunday = 0
            )
            if len(self._days_cache) >= DAY_CACHE_SIZE:
                self._days_cache.clear()
            self._days_cache[(year, month)] = days
        return days

    def _day_matches(self, day: int, weekday: int) -> bool:
        if self.any_day:
            return weekday in self.weekdays
        if self.any_weekday:
            return day in self.days
        return day in self.days or weekday in self.weekdays

    def next_wall(self, start: datetime) -> datetime | None:
        """The first matching wall-clock time at or after `start` (naive, whole seconds)."""
        year, month, day = start.year, start.month, start.day
        hour, minute, second = start.hour, start.minute, start.second
        while year <= MAX_YEAR:
            i = bisect_left(self.months, month)
            if i == len(self.months):
                year, month, day, hour, minute, second = year + 1, self.months[0], 1, 0, 0, 0
                continue
            if self.months[i] != month:
                month, day, hour, minute, second = self.months[i], 1, 0, 0, 0
            days = self.days_in(year, month)
            i = bisect_left(days, day)
            if i == len(days):
                month, day, hour, minute, second = month + 1, 1, 0, 0, 0
                continue
            if days[i] != day:
                day, hour, minute, second = days[i], 0, 0, 0
            i = bisect_left(self.hours, hour)
            if i == len(self.hours):
                day, hour, minute, second = day + 1, 0, 0, 0
                continue
            if self.hours[i] != hour:
                hour, minute, second = self.hours[i], 0, 0
            i = bisect_left(self.minutes, minute)
            if i == len(self.minutes):
                hour, minute, second = hour + 1, 0, 0
                continue
            if self.minutes[i] != minute:
                minute, second = self.minutes[i], 0
            i = bisect_left(self.seconds, second)
            if i == len(self.seconds):
                minute, second = minute + 1, 0
                continue
            return datetime(year, month, day, hour, minute, self.seconds[i])
        return None

    def can_fire(self) -> bool:
        """False when the day-of-month never occurs in the chosen months (e.g. 30 FEB)."""
        if self.any_day or not self.any_weekday:
            return True
        longest = {month: monthrange(2000, month)[1] for month in self.months}  # 2000: leap
        return any(self.days[0] <= longest[month] for month in self.months)


def _parse_value(text: str, spec: _Field, where: str, item: str) -> int:
    if not text:
        raise ScheduleError(f"{where} '{item}' is missing a value; allowed: {spec.allowed}")
    if _DIGITS.fullmatch(text):
        value = int(text) if len(text) <= 4 else spec.high + 1  # int() of huge text is slow
        if not spec.low <= value <= spec.high:
            raise ScheduleError(f"{where} '{text}' is out of range {spec.allowed}")
        return value
    upper = text.upper()
    if upper in spec.names:
        return spec.low + spec.names.index(upper)
    if spec.is_day and re.search(r"[LW#]", upper):
        raise ScheduleError(
            f"{where} '{item}': 'L', 'W' and '#' are not supported; list the days explicitly"
        )
    kind = "a number or a name" if spec.names else "a number"
    raise ScheduleError(f"{where} '{text}' is not {kind}; allowed: {spec.allowed}")


def _parse_item(item: str, spec: _Field, where: str) -> range:
    base, slash, step_text = item.partition("/")
    step = 1
    if slash:
        span = spec.high - spec.low + 1
        valid = _DIGITS.fullmatch(step_text) and len(step_text) <= 4
        if not valid or not 1 <= int(step_text) <= span:
            raise ScheduleError(
                f"{where} '{item}': the step after '/' must be a whole number from 1 to {span}"
            )
        step = int(step_text)
    if base in ("*", "?"):
        if base == "?" and (slash or not spec.is_day):
            raise ScheduleError(
                f"{where} '{item}': '?' stands alone and only in day-of-month or day-of-week"
            )
        return range(spec.low, spec.high + 1, step)
    first_text, dash, last_text = base.partition("-")
    first = _parse_value(first_text, spec, where, item)
    last = _parse_value(last_text, spec, where, item) if dash else first
    if dash and last < first:
        raise ScheduleError(
            f"{where} range '{base}' runs backwards; write the smaller value first "
            "or use a list (e.g. 'SAT,SUN')"
        )
    if slash and not dash:
        last = spec.high
    return range(first, last + 1, step)


def _parse_field(text: str, spec: _Field, position: int) -> tuple[tuple[int, ...], bool]:
    """Expand one field; the flag says whether it is unrestricted (`*`)."""
    where = f"cron field {position} ({spec.name})"
    values: set[int] = set()
    for item in text.split(","):
        if not item:
            raise ScheduleError(f"{where} '{text}' has an empty list item; separate values by ','")
        values.update(_parse_item(item, spec, where))
    if spec is _DOW:
        values = {value % 7 for value in values}
    return tuple(sorted(values)), text in _UNRESTRICTED


def _parse_expression(expression: str) -> tuple[_Matcher, bool]:
    text = expression.strip()
    if text.startswith("@"):
        macro = MACROS.get(text.lower())
        if macro is None:
            hint = " (use interval_seconds for fixed intervals)" if "every" in text else ""
            raise ScheduleError(
                f"unsupported cron macro '{text}'{hint}; use one of {', '.join(MACROS)}"
            )
        text = macro
    parts = text.split()
    if len(parts) not in (5, 6):
        raise ScheduleError(
            f"a cron expression has 5 fields (minute hour day-of-month month day-of-week) "
            f"or 6 with seconds first; got {len(parts)} in '{expression.strip()}'"
        )
    has_seconds = len(parts) == 6
    fields = (_SECOND, *_FIVE_FIELDS) if has_seconds else _FIVE_FIELDS
    parsed = [
        _parse_field(part, spec, n)
        for n, (part, spec) in enumerate(zip(parts, fields, strict=True), 1)
    ]
    if not has_seconds:
        parsed.insert(0, ((0,), False))
    (seconds, _), (minutes, _), (hours, _), (days, any_day), (months, _), (weekdays, any_wd) = (
        parsed
    )
    matcher = _Matcher(seconds, minutes, hours, days, months, weekdays, any_day, any_wd)
    if not matcher.can_fire():
        raise ScheduleError(
            f"cron expression '{expression.strip()}' never fires: day-of-month "
            f"{','.join(map(str, days))} does not occur in the chosen months"
        )
    return matcher, has_seconds


@dataclass(frozen=True, slots=True)
class CronSchedule:
    """A parsed, validated cron expression in an IANA timezone. Build it with `parse`."""

    expression: str
    timezone: str
    has_seconds: bool
    _matcher: _Matcher = field(repr=False, compare=False)
    _zone: ZoneInfo = field(repr=False, compare=False)

    @classmethod
    def parse(cls, expression: str, timezone: str = "UTC") -> CronSchedule:
        zone = validate_timezone(timezone)
        if not isinstance(expression, str) or not expression.strip():
            raise ScheduleError("the cron expression is empty; e.g. '0 2 * * *' is 02:00 daily")
        matcher, has_seconds = _parse_expression(expression)
        return cls(expression.strip(), timezone, has_seconds, matcher, zone)

    def next_after(self, after: datetime) -> datetime:
        """The first fire strictly after `after` (aware), as aware UTC."""
        _require_aware(after, "after")
        try:
            return next(self._walk(after))
        except (StopIteration, OverflowError):
            raise ScheduleError(
                f"'{self.expression}' has no fire time after {after.isoformat()} "
                f"before the year {MAX_YEAR + 1}"
            ) from None

    def fires_between(self, start: datetime, end: datetime) -> Iterator[datetime]:
        """Every fire in (start, end], ascending, each instant once, as aware UTC."""
        _require_aware(start, "start")
        _require_aware(end, "end")
        if end <= start:
            return iter(())
        return self._until(start, end)

    def _until(self, start: datetime, end: datetime) -> Iterator[datetime]:
        try:
            for fire in self._walk(start):
                if fire > end:
                    return
                yield fire
        except OverflowError:  # the walk reached datetime.max: nothing more can fire
            return

    def _walk(self, after: datetime) -> Iterator[datetime]:
        """Fires strictly after `after`, for ever (until the year 9999)."""
        local = after.astimezone(self._zone)
        wall = local.replace(tzinfo=None, microsecond=0, fold=0) + ONE_SECOND
        if local.fold == 1:  # inside a repeated hour: its wall times already fired
            wall = max(wall, _repeat_end(local, self._zone))
        last = after
        while (found := self._matcher.next_wall(wall)) is not None:
            fire, wall = self._fire_of(found)
            if fire > last:
                yield fire
                last = fire

    def _fire_of(self, wall: datetime) -> tuple[datetime, datetime]:
        """The UTC fire of a matching wall time, and the wall time to search on from."""
        fire = wall.replace(tzinfo=self._zone).astimezone(UTC)  # fold=0: first occurrence
        if fire.astimezone(self._zone).replace(tzinfo=None) == wall:
            return fire, wall + ONE_SECOND
        fire = _gap_end(wall, self._zone)  # the wall time was skipped by spring-forward
        return fire, fire.astimezone(self._zone).replace(tzinfo=None, fold=0) + ONE_SECOND


def _repeat_end(local: datetime, zone: ZoneInfo) -> datetime:
    """The first wall time (whole seconds) after `local` that is no longer repeated."""
    wall = local.replace(tzinfo=None, microsecond=0, fold=0)
    first = wall.replace(tzinfo=zone).utcoffset() or timedelta(0)
    second = local.utcoffset() or timedelta(0)
    low, high = 0, int((first - second).total_seconds())  # the repeat is this long
    while low < high:  # smallest k such that wall + k s is not ambiguous
        mid = (low + high) // 2
        probe = wall + timedelta(seconds=mid)
        if probe.replace(tzinfo=zone).utcoffset() != probe.replace(tzinfo=zone, fold=1).utcoffset():
            low = mid + 1
        else:
            high = mid
    return wall + timedelta(seconds=low)


def _gap_end(wall: datetime, zone: ZoneInfo) -> datetime:
    """The UTC instant where the spring-forward gap holding `wall` ends."""
    # In a gap fold=0 applies the offset from before the transition and fold=1 the one after, so
    # the two readings bracket the transition instant.
    readings = sorted(wall.replace(tzinfo=zone, fold=f).astimezone(UTC) for f in (0, 1))
    low, high = readings
    after_offset = high.astimezone(zone).utcoffset()
    lo, hi = 0, int((high - low).total_seconds())
    while lo < hi:  # smallest k such that low + k s already has the new offset
        mid = (lo + hi) // 2
        if (low + timedelta(seconds=mid)).astimezone(zone).utcoffset() == after_offset:
            hi = mid
        else:
            lo = mid + 1
    return low + timedelta(seconds=lo)


def _require_aware(moment: datetime, name: str) -> None:
    if not isinstance(moment, datetime) or moment.utcoffset() is None:
        raise ScheduleError(f"{name} must be a timezone-aware datetime, e.g. with tzinfo=UTC")


def validate_timezone(name: str) -> ZoneInfo:
    """The zone for an IANA name such as 'Europe/Berlin'."""
    if isinstance(name, str) and _TZ_NAME.fullmatch(name) and name not in _HOST_DEPENDENT_ZONES:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass
    shown = repr(name)[:80]
    match = _zone_names_by_lower().get(name.lower()) if isinstance(name, str) else None
    if match is not None:
        raise ScheduleError(f"unknown timezone {shown}; did you mean '{match}'?")
    raise ScheduleError(f"unknown timezone {shown}; use an IANA name like 'Europe/Berlin'")


@lru_cache(maxsize=1)
def _zone_names_by_lower() -> dict[str, str]:
    return {zone_name.lower(): zone_name for zone_name in available_timezones()}


def preview_cron(expression: str, timezone: str, after: datetime, count: int) -> list[datetime]:
    """The next `count` (1-100) fires of a cron expression after `after`."""
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_PREVIEW:
        raise ScheduleError(f"count must be a whole number from 1 to {MAX_PREVIEW}; got {count!r}")
    schedule = CronSchedule.parse(expression, timezone)
    _require_aware(after, "after")
    try:
        return list(islice(schedule._walk(after), count))
    except OverflowError:
        raise ScheduleError(f"'{expression}' has too few fires before {MAX_YEAR + 1}") from None


def next_interval_fire(anchor: datetime, interval_seconds: float, after: datetime) -> datetime:
    """anchor + k * interval for the smallest k >= 0 that is strictly after `after` (aware UTC).

    Pure arithmetic in whole microseconds, so fires never drift; the ticker measures the wait on a
    monotonic clock and uses this only to align slots.
    """
    _require_aware(anchor, "anchor")
    _require_aware(after, "after")
    if isinstance(interval_seconds, bool) or not (
        isinstance(interval_seconds, int | float) and math.isfinite(interval_seconds)
    ):
        raise ScheduleError(f"interval_seconds must be a finite number; got {interval_seconds!r}")
    try:
        step = timedelta(seconds=interval_seconds)
        if step <= timedelta(0):
            raise ScheduleError(
                f"interval_seconds must be positive (at least 0.000001); got {interval_seconds!r}"
            )
        start = anchor.astimezone(UTC)  # UTC: aware arithmetic in a local zone is wall-clock
        if after < start:
            return start
        return start + ((after - start) // step + 1) * step
    except OverflowError:
        raise ScheduleError("the next interval fire is beyond the year 9999") from None


class Catchup(StrEnum):
    NONE = "none"
    LATEST = "latest"
    ALL = "all"


@dataclass(frozen=True, slots=True)
class CatchupPlan:
    fire: list[datetime]
    skipped: list[datetime]


def plan_catchup(
    missed: Sequence[datetime], policy: Catchup | str, max_all: int = 100
) -> CatchupPlan:
    """Split slots missed during downtime into those to fire now and those to record as skipped.

    `none` fires nothing; `latest` fires the newest slot; `all` fires the newest `max_all`. Every
    slot not fired is returned in `skipped` so the caller records it. Slots are sorted and
    deduplicated first.
    """
    try:
        chosen = Catchup(policy)
    except ValueError:
        raise ScheduleError(
            f"unknown catch-up policy {policy!r}; use one of {', '.join(c.value for c in Catchup)}"
        ) from None
    if isinstance(max_all, bool) or not isinstance(max_all, int) or max_all < 1:
        raise ScheduleError(f"max_all must be a whole number of at least 1; got {max_all!r}")
    slots = sorted(set(missed))
    keep = {Catchup.NONE: 0, Catchup.LATEST: 1, Catchup.ALL: max_all}[chosen]
    cut = max(0, len(slots) - keep)
    return CatchupPlan(fire=slots[cut:], skipped=slots[:cut])


def plan_due_slots(
    due: Sequence[datetime],
    now: datetime,
    *,
    grace_seconds: float,
    policy: Catchup | str,
    max_all: int = 100,
) -> CatchupPlan:
    """What to do with cron slots that are due at `now`: those `grace_seconds` late or more were
    missed and follow the catch-up policy (`plan_catchup`); the others fire, after the missed
    ones the policy fires."""
    grace = now - timedelta(seconds=grace_seconds)
    missed = [slot for slot in due if slot <= grace]
    on_time = sorted({slot for slot in due if slot > grace})
    plan = plan_catchup(missed, policy, max_all)
    return CatchupPlan(fire=plan.fire + on_time, skipped=plan.skipped)
