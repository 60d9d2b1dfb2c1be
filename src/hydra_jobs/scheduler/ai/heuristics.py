"""The built-in failure analyser: rules over the run's facts and its log, no model, no key.

It answers with the same `Finding` a model gives, so "Analyze failure" always helps. The run's
status decides first (lost, timed out); then the log is read from the end, because the line
nearest the failure is the one that explains it (a Python traceback's last exception, a shell's
"not found"); then the exit code (126, 127, SIGKILL). The decisive line is also what the
fingerprint of the failure is made from, so the same rules group recurring failures.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from hydra_jobs.scheduler.ai.schema import Category, Evidence, Finding
from hydra_jobs.status import RunStatus

LogLine = tuple[int, str]  # (1-based line number, text)
MAX_RELATED = 3  # further lines of the same kind quoted beside the decisive one
MIB = 1024 * 1024
TIGHT_TIMEOUT_SHARE = 0.6  # successful runs using this much of the timeout: suggest doubling it
C = Category


@dataclass(frozen=True, slots=True)
class Facts:
    """What the rules look at: the run's end and the redacted head and tail of its log."""

    status: RunStatus
    exit_code: int | None
    error: str | None
    lines: Sequence[LogLine]
    timeout_seconds: float | None = None
    duration_seconds: float | None = None
    usual_seconds: float | None = None
    peak_rss_bytes: int | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    finding: Finding
    key: str  # the decisive line (or error) the fingerprint is made from


@dataclass(frozen=True, slots=True)
class Rule:
    category: Category
    pattern: re.Pattern[str]
    summary: str
    fix: str
    confidence: float = 0.8


def _rule(category: Category, pattern: str, summary: str, fix: str, conf: float = 0.8) -> Rule:
    return Rule(category, re.compile(pattern, re.IGNORECASE), summary, fix, conf)


# In priority order: on one line, the first rule that matches wins.
RULES: tuple[Rule, ...] = (
    _rule(
        C.AUTH,
        r"permission denied \(publickey|host key verification failed",
        "SSH authentication failed",
        "Give the worker a key the server accepts (and its host key), or use an https URL "
        "with a token.",
    ),
    _rule(
        C.DISK,
        r"no space left on device|\bENOSPC\b|disk quota exceeded|\bEDQUOT\b",
        "The disk (or a quota) is full",
        "Free space on the worker's disk or write somewhere larger; clean up old files the job "
        "leaves behind.",
    ),
    _rule(
        C.OUT_OF_MEMORY,
        r"\bMemoryError\b|out of memory|cannot allocate memory|\bENOMEM\b|std::bad_alloc|"
        r"OOMKilled|^\s*Killed\s*$|OutOfMemoryError|heap out of memory",
        "The job ran out of memory",
        "Process the data in smaller pieces or stream it, or run the job where more memory is "
        "available (a queue or tag of larger workers).",
    ),
    _rule(
        C.DEPENDENCY,
        r"ModuleNotFoundError|ImportError|No module named|Cannot find module|"
        r"cannot open shared object file|error while loading shared libraries|"
        r"Could not find a version that satisfies|\bERESOLVE\b|\bLoadError\b",
        "A library or module the job imports is not installed",
        "Install the missing package in the environment the worker runs the job with (or set "
        "`executor.interpreter` to a virtualenv that has it), and pin it in the requirements.",
    ),
    _rule(
        C.NETWORK,
        r"Name or service not known|Temporary failure in name resolution|"
        r"nodename nor servname|Could not resolve host|gaierror|\bENOTFOUND\b|\bNXDOMAIN\b|"
        r"no such host|getaddrinfo failed",
        "A host name could not be resolved (DNS)",
        "Check the host name for typos and that the worker can resolve it (DNS, /etc/hosts, VPN).",
    ),
    _rule(
        C.NETWORK,
        r"Connection refused|\bECONNREFUSED\b|Connection reset|\bECONNRESET\b|"
        r"Network is unreachable|No route to host|Connection timed out|\bETIMEDOUT\b|"
        r"Max retries exceeded|CERTIFICATE_VERIFY_FAILED",
        "A network connection failed",
        "Check that the service is running and listening on that host and port, and that the "
        "worker may reach it (firewall, proxy, VPN).",
    ),
    _rule(
        C.AUTH,
        r"\b401\b.*unauthori[sz]ed|unauthori[sz]ed.*\b401\b|HTTP Error 40[13]|\b403 Forbidden|"
        r"authentication failed|authentication required|invalid credentials|"
        r"password authentication failed|access denied for user|InvalidClientTokenId|"
        r"ExpiredToken|invalid[_ ]grant|bad credentials|invalid api key|Unauthorized",
        "The job's credentials were refused",
        "Renew or correct the credential the job uses (a token, password or key in its env) "
        "and check it grants access to this resource.",
    ),
    _rule(
        C.MISSING_COMMAND,
        r": not found\s*$|command not found|is not recognized as an internal or external command|"
        r"executable file not found",
        "A command the job runs is not installed on the worker",
        "Install the command on the worker (or add its directory to PATH), or run the job on "
        "workers that have it (a queue or tag).",
    ),
    _rule(
        C.PERMISSION,
        r"Permission denied|PermissionError|\bEACCES\b|Operation not permitted|\bEPERM\b|"
        r"Access is denied",
        "The job was not allowed to access a file or run a program",
        "Check the owner and mode of the file (`chmod +x` for a script it runs) and the user "
        "the worker runs jobs as.",
    ),
    _rule(
        C.MISSING_FILE,
        r"No such file or directory|FileNotFoundError|\bENOENT\b|cannot stat|cannot access|"
        r"does not exist",
        "A file or directory the job needs does not exist",
        "Check the path (relative paths start in the job's working directory: the checkout "
        "`path` for a git source, else the worker's own working directory) and that an earlier "
        "step created the file.",
    ),
    _rule(
        C.CODE_ERROR,
        r"^\s*(?:[A-Za-z_][\w.]*\.)?[A-Z]\w*(?:Error|Exception)\b(?::|$)|^panic:|"
        r"Segmentation fault|core dumped|Uncaught|^Exception in thread",
        "The job's code raised an error",
        "Fix the code at the place the traceback points to; run it locally with the same "
        "params and env to reproduce it.",
        0.65,
    ),
)

SPAWN_FAILED = "spawn failed:"  # the worker's error for a run whose process never started
INTERPRETER_MISSING = "#! interpreter"  # in it when a script's interpreter is not on the worker
TRACE_FRAME = re.compile(r'^\s*File "[^"]+", line \d+|^\s+at .+\(.+:\d+')


def analyse(facts: Facts) -> Verdict:
    """The rules' answer for one failed run."""
    if facts.status is RunStatus.LOST:
        return _lost(facts)
    if facts.status is RunStatus.TIMED_OUT:
        return _timed_out(facts)
    if facts.exit_code is None and (facts.error or "").startswith(SPAWN_FAILED):
        return _not_started(facts, facts.error or "")
    found = _decisive(facts.lines)
    if found is not None:
        rule, line = found
        if rule.category is C.MISSING_FILE and facts.exit_code == 127:
            rule = _rule_of(C.MISSING_COMMAND)  # the shell could not find the program itself
        return _from_line(facts, rule, line)
    return _from_exit(facts)


def _not_started(facts: Facts, error: str) -> Verdict:
    """The worker could not start the job's process: its error is the whole story."""
    rule = next((r for r in RULES if r.pattern.search(error)), None)
    if rule is not None and rule.category is C.MISSING_FILE and INTERPRETER_MISSING in error:
        rule = _rule_of(C.MISSING_COMMAND)  # a #! interpreter the worker does not have
    category = C.UNKNOWN if rule is None else rule.category
    fix = "" if rule is None else rule.fix
    if category in (C.PERMISSION, C.MISSING_FILE, C.MISSING_COMMAND):
        fix += (
            " The program runs as the user the worker runs jobs as (HYDRA_RUN_AS for a root "
            "worker, else the worker's own), who must be able to reach it through every "
            "directory on its way and, for a `python` job, its `interpreter`; the job's working "
            "directory must be one that user can enter."
        )
    finding = Finding(
        summary=f"The job's process could not be started: {error[len(SPAWN_FAILED) :].strip()}",
        probable_cause=f"The worker failed to start the program ('{error}'), so nothing of the "
        "job ran and there is no exit code.",
        category=category,
        evidence=_last_lines(facts),
        suggested_fix=fix.strip() or "Read the error: the worker could not start the process.",
        confidence=0.7,
    )
    return Verdict(finding, error)


def _rule_of(category: Category) -> Rule:
    return next(r for r in RULES if r.category is category)


def _decisive(lines: Sequence[LogLine]) -> tuple[Rule, LogLine] | None:
    for line in reversed(lines):
        for rule in RULES:
            if rule.pattern.search(line[1]):
                return rule, line
    return None


def _evidence(lines: Sequence[LogLine], rule: Rule, decisive: LogLine) -> list[Evidence]:
    picked = {decisive}
    index = lines.index(decisive)
    frame = next((ln for ln in reversed(lines[:index]) if TRACE_FRAME.search(ln[1])), None)
    if frame is not None and decisive[0] - frame[0] <= 3:
        picked.add(frame)  # where in the code it was raised
    related = [ln for ln in reversed(lines[:index]) if rule.pattern.search(ln[1])]
    picked.update(related[:MAX_RELATED])
    return [Evidence(line=n, text=t[:2000]) for n, t in sorted(picked)]


def _from_line(facts: Facts, rule: Rule, line: LogLine) -> Verdict:
    quoted = line[1].strip()
    ended = _ending(facts)
    finding = Finding(
        summary=f"{rule.summary}: {quoted[:300]}",
        probable_cause=f"Line {line[0]} of the log says `{quoted[:500]}`; the run {ended}.",
        category=rule.category,
        evidence=_evidence(facts.lines, rule, line),
        suggested_fix=rule.fix,
        confidence=rule.confidence,
    )
    return Verdict(finding, quoted)


def _ending(facts: Facts) -> str:
    if facts.error:
        return f"ended with '{facts.error}'"
    if facts.exit_code is not None:
        return f"exited with code {facts.exit_code}"
    return f"ended {facts.status.value}"


def _last_lines(facts: Facts, count: int = 3) -> list[Evidence]:
    tail = [ln for ln in facts.lines if ln[1].strip()][-count:]
    return [Evidence(line=n, text=t[:2000]) for n, t in tail]


def _lost(facts: Facts) -> Verdict:
    error = facts.error or "its worker stopped reporting"
    finding = Finding(
        summary=f"The worker running the job was lost: {error}",
        probable_cause="The run did not fail by itself: the worker that ran it stopped renewing "
        "its lease (it crashed, was killed, its machine went down or lost its network), so "
        "the run was declared lost.",
        category=C.INFRASTRUCTURE,
        evidence=_last_lines(facts),
        suggested_fix="Check the worker's host and its log around the run's end (memory "
        "pressure, restarts, network); retry the run. Configure retries so lost runs are "
        "retried automatically.",
        confidence=0.9,
    )
    return Verdict(finding, "lost")


def _timed_out(facts: Facts) -> Verdict:
    limit = f"{facts.timeout_seconds:g} s" if facts.timeout_seconds else "its timeout"
    usual = (
        f" Its successful runs usually take {facts.usual_seconds:.1f} s."
        if facts.usual_seconds is not None
        else ""
    )
    finding = Finding(
        summary=f"The run was stopped after {limit} (its timeout)",
        probable_cause=f"The job was still running when its timeout of {limit} passed, so its "
        f"process tree was killed.{usual} The log's last lines show where it was.",
        category=C.TIMEOUT,
        evidence=_last_lines(facts),
        suggested_fix="Find what was slow or waiting (a hung connection, a lock, more data "
        "than usual) from the last lines; raise `timeout_seconds` only if the job "
        "legitimately needs longer.",
        suggested_spec_patch=_longer_timeout(facts),
        confidence=0.9,
    )
    return Verdict(finding, "timed out")


def _longer_timeout(facts: Facts) -> dict[str, float] | None:
    """When the job's successful runs take most of its timeout, the timeout is the problem."""
    limit, usual = facts.timeout_seconds, facts.usual_seconds
    if not limit or usual is None or usual < TIGHT_TIMEOUT_SHARE * limit:
        return None
    return {"timeout_seconds": float(math.ceil(max(usual, limit) * 2))}


def _from_exit(facts: Facts) -> Verdict:
    code = facts.exit_code
    if code in (-9, 137):
        rss = (
            f" Its peak memory was {facts.peak_rss_bytes / MIB:.0f} MiB."
            if facts.peak_rss_bytes
            else ""
        )
        finding = Finding(
            summary="The job was killed with SIGKILL, most likely by the out-of-memory killer",
            probable_cause="Nothing in the log explains the end and the process was killed "
            f"with signal 9, which the kernel's OOM killer (or a container's memory limit) "
            f"sends.{rss}",
            category=C.OUT_OF_MEMORY,
            evidence=_last_lines(facts),
            suggested_fix="Check the worker's kernel log (`dmesg`) for the OOM killer; reduce "
            "the job's memory use or run it where more memory is available.",
            confidence=0.6,
        )
        return Verdict(finding, "sigkill")
    if code == 127:
        rule = _rule_of(C.MISSING_COMMAND)
        return _from_code(facts, rule, "Exit code 127 is the shell's 'command not found'.")
    if code == 126:
        rule = _rule_of(C.PERMISSION)
        return _from_code(facts, rule, "Exit code 126 means a program could not be executed.")
    finding = Finding(
        summary=f"The job failed ({_ending(facts)}) and its log does not say why",
        probable_cause="No line of the log matches a known kind of failure; the exit code is "
        "the job's own.",
        category=C.UNKNOWN,
        evidence=_last_lines(facts),
        suggested_fix="Make the job print what it is doing and why it stops (e.g. `set -x` in "
        "a shell script), then run it again.",
        confidence=0.2,
    )
    return Verdict(finding, facts.error or f"exit {code}")


def _from_code(facts: Facts, rule: Rule, why: str) -> Verdict:
    finding = Finding(
        summary=rule.summary,
        probable_cause=why,
        category=rule.category,
        evidence=_last_lines(facts),
        suggested_fix=rule.fix,
        confidence=0.5,
    )
    return Verdict(finding, f"exit {facts.exit_code}")
