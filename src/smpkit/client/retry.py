"""When a request may be sent again, and how long an operation may take in all."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from smpkit.protocol.errors import MgmtErr, SMPMgmtError
from smpkit.protocol.model import Request


def is_retriable(request: Request[Any]) -> bool:
    """Idempotent requests may be resent after a timeout or a loss.

    Upload chunks count as idempotent: they are addressed by offset, and the device
    answers a repeated chunk with the offset it expects instead of writing it twice.
    """
    return bool(request.IDEMPOTENT)


def is_no_buffer(error: BaseException) -> bool:
    """rc 2 (ENOMEM): the device had no buffer for the response, so it did not run the request.

    Zephyr's `smp_process_request_packet()` (subsys/mgmt/mcumgr/smp/src/smp.c) allocates
    the response buffer before calling the handler and answers ENOMEM when it cannot.
    """
    return isinstance(error, SMPMgmtError) and error.rc == MgmtErr.ENOMEM


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """`timeout` per attempt, `retries` extra attempts, all within one `deadline` (seconds, overall)."""

    timeout: float = 2.5
    retries: int = 3
    deadline: float | None = None

    def overall(self) -> float:
        return self.deadline if self.deadline is not None else self.timeout * (self.retries + 1)


#: Resends of a request answered rc 2 (ENOMEM), on top of the policy's retries: the device did
#: not run it, so resending is safe for any request, even one sent with `retries=0`.
NO_BUFFER_RESENDS = 8


class Attempts:
    """Counts the attempts of one operation against its policy and its deadline."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy
        self._loop = asyncio.get_running_loop()
        self.deadline = self._loop.time() + policy.overall()
        self.done = 0
        #: Attempts answered rc 2: they do not use up the policy's retries.
        self.unrun = 0

    @property
    def remaining(self) -> float:
        return self.deadline - self._loop.time()

    def next_timeout(self) -> float:
        return max(0.0, min(self.policy.timeout, self.remaining))

    def may_retry(self) -> bool:
        return self.done - self.unrun <= self.policy.retries and self.remaining > 0.001

    def may_resend_unrun(self) -> bool:
        """After rc 2: resend (the device did not run the request) unless the budget or the deadline is spent."""
        self.unrun += 1
        return self.unrun <= NO_BUFFER_RESENDS and self.remaining > 0.001
