"""How many requests a tier takes at once, and what it tells the ones it turns away.

    admission = Admission(limit=16)
    with admission.slot():          # Overloaded(retry_after_s=...) when all are taken
        ... serve the request ...

Beyond the limit a request is refused at once (RESOURCE_EXHAUSTED) with a retry delay: the
time a slot takes to free on average (an EWMA of the recent requests' service time), so that
callers back off rather than pile up; nothing is queued unseen, memory stays bounded, and every
request taken is answered.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager

from splitvlm.errors import Overloaded
from splitvlm.plan.ewma import Ewma

SERVICE_PRIOR_S = 0.05  # the retry delay before any request was served


class Admission:
    def __init__(self, limit: int, alpha: float = 0.1) -> None:
        if limit < 1:
            raise ValueError(f"limit={limit}; expected >= 1")
        self.limit, self.in_flight, self.refused = limit, 0, 0
        self._service = Ewma(SERVICE_PRIOR_S, alpha, factor=math.inf)  # no change detector

    @property
    def retry_after_s(self) -> float:
        return self._service.value

    @contextmanager
    def slot(self) -> Iterator[None]:
        if self.in_flight >= self.limit:
            self.refused += 1
            raise Overloaded(f"at the limit of {self.limit} requests in flight; retry in "
                             f"{self.retry_after_s * 1e3:.0f} ms", self.retry_after_s)
        self.in_flight += 1
        started = time.perf_counter()
        try:
            yield
        finally:
            self.in_flight -= 1
            self._service.update(time.perf_counter() - started)
