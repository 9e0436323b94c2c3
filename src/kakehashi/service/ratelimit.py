"""Rate limiting per API key: a token bucket in the API process.

Example:
    >>> bucket = TokenBuckets(rate=1.0, burst=2)
    >>> [bucket.take(7, now=0.0) for _ in range(3)]
    [0.0, 0.0, 1.0]
"""

from __future__ import annotations

import threading
import time


class TokenBuckets:
    """``rate`` requests per second per key, up to ``burst`` at once."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = float(rate), float(burst)
        self._state: dict[int, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: int, *, rate: float | None = None, now: float | None = None) -> float:
        """Spend one token; 0 when allowed, else the seconds until one is free."""
        rate = self.rate if rate is None else float(rate)
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._state.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * rate)
            if tokens >= 1.0:
                self._state[key] = (tokens - 1.0, now)
                return 0.0
            self._state[key] = (tokens, now)
            return (1.0 - tokens) / rate
