"""Day and month arithmetic on numpy arrays of epoch days (Asia/Shanghai business dates).

Times are int64 *local* milliseconds (wall clock in Asia/Shanghai, which has had no DST
since 1991); the writer turns them into UTC instants where a format needs one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

MS_DAY = 86_400_000
MS_HOUR = 3_600_000
UTC_OFFSET_MS = 8 * MS_HOUR
EPOCH = date(1970, 1, 1)


def epoch_day(d: date) -> int:
    return (d - EPOCH).days


def to_date(day: int) -> date:
    return EPOCH + timedelta(days=int(day))


def month_of(day) -> np.ndarray:
    """Epoch day -> months since 1970-01."""
    return np.asarray(day, dtype="int64").astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def month_start(month) -> np.ndarray:
    return np.asarray(month, dtype="int64").astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def add_months(day, k) -> np.ndarray:
    """Same day of month k months later, clipped to the month's last day."""
    day = np.asarray(day, dtype=np.int64)
    m = month_of(day)
    dom = day - month_start(m)
    target = m + np.asarray(k, dtype=np.int64)
    length = month_start(target + 1) - month_start(target)
    return month_start(target) + np.minimum(dom, length - 1)


def add_years(day, k) -> np.ndarray:
    return add_months(day, 12 * np.asarray(k, dtype=np.int64))


def yyyymmdd(day) -> np.ndarray:
    d = np.asarray(day, dtype=np.int64).astype("datetime64[D]")
    y = d.astype("datetime64[Y]").astype(np.int64) + 1970
    m = d.astype("datetime64[M]").astype(np.int64) % 12 + 1
    dd = (d - d.astype("datetime64[M]")).astype(np.int64) + 1
    return y * 10000 + m * 100 + dd


def years_between(day_from, day_to) -> np.ndarray:
    return (np.asarray(day_to) - np.asarray(day_from)) / 365.25


@dataclass(frozen=True)
class Window:
    """The simulated period and the history depths the initial load carries."""

    start: int  # epoch day of the first business date
    days: int

    @property
    def end(self) -> int:
        """First epoch day after the simulated period."""
        return self.start + self.days

    def months_back(self, k: int) -> int:
        """Epoch day of the first of the month k months before the start month."""
        return int(month_start(month_of(self.start) - k))
