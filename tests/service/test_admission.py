"""Admission: beyond the limit a request is refused at once with a retry delay that follows
the recent service time; a slot is given back however the request ends."""

from __future__ import annotations

import pytest

from splitvlm.errors import Overloaded
from splitvlm.service.admission import SERVICE_PRIOR_S, Admission


def test_beyond_the_limit_is_overloaded_with_a_retry_delay() -> None:
    admission = Admission(limit=2)
    with admission.slot(), admission.slot():
        assert admission.in_flight == 2
        with pytest.raises(Overloaded, match="limit of 2 requests in flight") as caught:
            with admission.slot():
                pass
        assert caught.value.retry_after_s == SERVICE_PRIOR_S
    assert (admission.in_flight, admission.refused) == (0, 1)


def test_a_failed_request_gives_its_slot_back_and_teaches_the_delay() -> None:
    admission = Admission(limit=1)
    with pytest.raises(RuntimeError), admission.slot():
        raise RuntimeError("the request failed")
    assert admission.in_flight == 0
    with admission.slot():
        pass
    assert admission.retry_after_s < SERVICE_PRIOR_S  # two near-instant requests
