"""Fingerprints of failures: runs whose normalised error is the same are one recurring failure.

What varies between two runs failing the same way (times, numbers, ids, paths, addresses) is
masked, so "connection refused to 10.0.0.7:5432 at 02:00:03" of Monday and Tuesday agree.
"""

from __future__ import annotations

import hashlib
import re

from hydra_jobs.scheduler.ai.schema import Category

_MASKS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)?"), "<time>"),
    (re.compile(r"\b\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\b"), "<time>"),
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I), "<id>"),
    (re.compile(r"\b(?:0x)?(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{6,}\b", re.I), "<hex>"),
    (re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b"), "<ip>"),
    (re.compile(r"(?:[A-Za-z]:)?(?:[\\/][\w.@+-]+){2,}[\\/]?"), "<path>"),
    (re.compile(r"\d+(\.\d+)?"), "<n>"),
    (re.compile(r"\s+"), " "),
)


def normalise(text: str) -> str:
    """The error with what differs between occurrences masked."""
    for pattern, mask in _MASKS:
        text = pattern.sub(mask, text)
    return text.strip().lower()


def fingerprint(category: Category, key: str) -> str:
    """A short, stable id of (category, normalised decisive line)."""
    digest = hashlib.sha256(f"{category.value}\n{normalise(key)}".encode()).hexdigest()
    return digest[:16]
