"""Redaction: what is masked in anything that leaves the server for an AI provider (RELIABILITY I6).

Two kinds of secret are masked. Known values (every env value of the job, the values of params
whose names look secret, the server's admin token) are replaced wherever they occur. Shapes that
are secret whatever their context (tokens of well-known services, Authorization headers, passwords
in URLs, private key blocks, JWTs, `password=...` assignments) are found by pattern. Everything is
pure: the bundle is redacted before a prompt is built, and the prompt is redacted again as a whole
(so no pattern may swallow a quote or a backslash: that would break the JSON it runs over).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

MASK = "[REDACTED]"
MIN_KNOWN_SECRET_CHARS = 4  # shorter values ("7", "yes") would mask every occurrence in the log

SECRET_NAME_RE = re.compile(
    r"pass(word|wd|phrase)?|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|"
    r"credential|auth|cookie|session|signature|dsn|conn(ection)?[_-]?str",
    re.IGNORECASE,
)

# (name, pattern, group to mask: 0 = the whole match). Order matters: blocks before lines.
_PATTERNS: list[tuple[str, re.Pattern[str], int]] = [
    (
        "private key block",
        re.compile(
            r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)",
            re.DOTALL,
        ),
        0,
    ),
    ("JWT", re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}"), 0),
    (
        "Authorization header",
        re.compile(
            r"(?i)\b((?:proxy-)?authorization\s*[:=]\s*)([^\s\"'\\]+(?:[ \t]+[^\s\"',;\\]+)?)"
        ),
        2,
    ),
    ("bearer token", re.compile(r"(?i)\b(bearer|basic|token)\s+([A-Za-z0-9._~+/=-]{8,})"), 2),
    (
        "password in URL",
        re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s:/@\"']+:)([^\s@/\"'\\]+)(@)"),
        2,
    ),
    ("hydra token", re.compile(r"\bhjt_[0-9a-f]{32}_[A-Za-z0-9_-]{43}\b"), 0),
    ("AWS access key id", re.compile(r"\b(AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b"), 0),
    (
        "AWS secret key",
        re.compile(r"(?i)(aws_?secret_?access_?key\s*[:=]\s*[\"']?)([A-Za-z0-9/+=]{40})"),
        2,
    ),
    ("Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"), 0),
    ("Google OAuth token", re.compile(r"\bya29\.[0-9A-Za-z_-]{20,}"), 0),
    (
        "GCP service account key",
        re.compile(r"(\"private_key(?:_id)?\"\s*:\s*\")([^\"]+)(\")"),
        2,
    ),
    (
        "Azure key",
        re.compile(r"(?i)\b((?:AccountKey|SharedAccessKey|sig)\s*=\s*)([A-Za-z0-9%/+=]{16,})"),
        2,
    ),
    ("GitHub token", re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})"), 0),
    ("Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"), 0),
    ("Slack webhook", re.compile(r"https://hooks\.slack\.com/services/[A-Za-z0-9/]+"), 0),
    ("OpenAI key", re.compile(r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}"), 0),
    (
        "secret assignment",
        re.compile(
            r"(?i)\b([A-Za-z0-9_.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|"
            r"access[_-]?key)[A-Za-z0-9_.-]*[\"']?\s*[:=]\s*[\"']?)([^\s\"',;&\\]{3,})"
        ),
        2,
    ),
]


KEY_BEGIN = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")
KEY_END = re.compile(r"-----END [A-Z0-9 ]*PRIVATE KEY-----")


def looks_secret(name: str) -> bool:
    """Whether a parameter or variable *name* suggests its value is a secret."""
    return SECRET_NAME_RE.search(name) is not None


@dataclass(slots=True)
class Redactor:
    """Masks known secret values and secret shapes in text."""

    known: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, values: Iterable[str | None]) -> Redactor:
        kept = {v for v in values if v and len(v) >= MIN_KNOWN_SECRET_CHARS}
        # Longest first, so a secret that contains another is masked whole.
        return cls(known=sorted(kept, key=len, reverse=True))

    def line(self, value: str, in_key: bool) -> tuple[str, bool]:
        """One line of a log read line by line; `in_key` carries a private key block across
        lines (its body lines have no marker of their own). Returns the line and the new state."""
        if in_key:
            return MASK, KEY_END.search(value) is None
        opened = KEY_BEGIN.search(value) is not None and KEY_END.search(value) is None
        return self.text(value), opened

    def text(self, value: str) -> str:
        for secret in self.known:
            if secret in value:
                value = value.replace(secret, MASK)
        for _, pattern, group in _PATTERNS:
            value = pattern.sub(_masker(group), value)
        return value


def _masker(group: int) -> Callable[[re.Match[str]], str]:
    def mask(match: re.Match[str]) -> str:
        if group == 0:
            return MASK
        whole, base = match.group(0), match.start(0)
        start, end = match.span(group)
        return whole[: start - base] + MASK + whole[end - base :]

    return mask
