"""Webhook signatures (pure): HMAC-SHA256 over the timestamp and the body, per channel secret.

The receiver recomputes `sha256=HEX(HMAC(secret, "<timestamp>.<body>"))` and compares it with the
`X-Hydra-Signature` header in constant time, and refuses a timestamp older than a few minutes, so a
captured request cannot be replayed later (N2). `verify` is what a receiver written in Python does.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Hydra-Signature"
TIMESTAMP_HEADER = "X-Hydra-Timestamp"
DELIVERY_HEADER = "X-Hydra-Delivery"
EVENT_HEADER = "X-Hydra-Event"
TOLERANCE_SECONDS = 300.0


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(
    secret: str,
    timestamp: str,
    signature: str,
    body: bytes,
    now: float,
    tolerance: float = TOLERANCE_SECONDS,
) -> bool:
    try:
        stamp = int(timestamp)
    except ValueError:
        return False
    if abs(now - stamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, stamp, body), signature)
