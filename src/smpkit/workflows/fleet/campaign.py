"""The coordinator: waves, the abort rule, link limits, the state file and the report.

Where a device's job runs is the executor's business: `LocalExecutor` runs it in this
event loop; `smpkit.workflows.fleet.cluster.DaskExecutor` on the device's gateway.
Everything else happens here, on the coordinating machine.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from smpkit.workflows.fleet.job import StepCallback, UpgradeSpec, upgrade_device
from smpkit.workflows.fleet.limits import Limits
from smpkit.workflows.fleet.model import (
    ALREADY,
    FAILED,
    SKIPPED,
    CampaignReport,
    DeviceResult,
    FleetDevice,
    FleetEvent,
    JobOutcome,
)
from smpkit.workflows.fleet.plan import AbortRule, Amount, split_waves
from smpkit.workflows.fleet.store import CampaignStore

EventCallback = Callable[[FleetEvent], None]


class Executor(Protocol):
    async def run(self, device: FleetDevice, on_step: StepCallback) -> JobOutcome: ...


class LocalExecutor:
    """Runs each device's upgrade in this process's event loop."""

    def __init__(self, spec: UpgradeSpec) -> None:
        self.spec = spec

    async def run(self, device: FleetDevice, on_step: StepCallback) -> JobOutcome:
        return await upgrade_device(device.conn, for_device(self.spec, device), board=device.board,
                                    on_step=on_step)


def for_device(spec: UpgradeSpec, device: FleetDevice) -> UpgradeSpec:
    """The device's own timeout and retries (fleet file) win over the campaign's."""
    if device.timeout is None and device.retries is None:
        return spec
    return dataclasses.replace(spec, timeout=device.timeout if device.timeout is not None else spec.timeout,
                               retries=device.retries if device.retries is not None else spec.retries)


@dataclass(slots=True)
class CampaignOptions:
    waves: list[Amount] = field(default_factory=lambda: [Amount(100, True)])
    abort: AbortRule = field(default_factory=AbortRule)
    concurrency: int = 16
    #: Connections one BLE adapter holds at once (most hold one).
    ble_links: int = 1
    #: Give up on a device after this many seconds (None: its flow's own timeouts only).
    device_timeout: float | None = None


class Campaign:
    """One run over the selected devices. `await Campaign(...).run()` -> the report."""

    def __init__(self, devices: list[FleetDevice], executor: Executor, options: CampaignOptions, *, target: str,
                 store: CampaignStore | None = None, on_event: EventCallback | None = None) -> None:
        self.devices = devices
        self.executor = executor
        self.options = options
        self.target = target
        self.store = store
        self.on_event = on_event or (lambda event: None)
        self.results: dict[str, DeviceResult] = {}
        self.limits = Limits(options.concurrency, ble_links=options.ble_links)

    async def run(self) -> CampaignReport:
        pending = [d for d in self.devices if not self._resumed(d)]
        waves, uncovered = split_waves(pending, self.options.waves)
        for device in uncovered:
            self._skip(device, "not in any wave")
        report = CampaignReport([], [len(w) for w in waves])
        executed = failed = 0
        for number, wave in enumerate(waves, 1):
            self.on_event(FleetEvent("wave", wave=number, total=len(wave)))
            outcomes = await asyncio.gather(*(self._one(device) for device in wave))
            executed += len(outcomes)
            failed += sum(1 for r in outcomes if r.outcome == FAILED)
            reason = self.options.abort.verdict(executed, failed, len(waves[0]))
            if reason is not None and number < len(waves):
                report.aborted, report.abort_reason = True, reason
                self.on_event(FleetEvent("abort", detail=reason))
                for later in waves[number:]:
                    for device in later:
                        self._skip(device, "campaign stopped: " + reason)
                break
        report.results = [self.results[d.name] for d in self.devices]
        return report

    def _resumed(self, device: FleetDevice) -> bool:
        """Recorded as running the image by an earlier run: reported, not touched."""
        done = self.store.done(device.name, self.target) if self.store is not None else None
        if done is None:
            return False
        result = DeviceResult(device.name, device.host, ALREADY, done[0], done[1], 0.0, None)
        self.results[device.name] = result
        self.on_event(FleetEvent("done", device.name, detail="recorded in the state file", result=result))
        return True

    def _skip(self, device: FleetDevice, why: str) -> None:
        result = DeviceResult(device.name, device.host, SKIPPED, error=why)
        self.results[device.name] = result
        self.on_event(FleetEvent("done", device.name, result=result))

    async def _one(self, device: FleetDevice) -> DeviceResult:
        async with self.limits.slot(device):
            if self.store is not None:
                self.store.started(device.name, device.host, device.conn, self.target)
            self.on_event(FleetEvent("start", device.name))
            began = time.monotonic()
            outcome = await self._execute(device)
            seconds = time.monotonic() - began
        result = DeviceResult(device.name, outcome.ran_on or device.host, outcome.outcome, outcome.version,
                              outcome.hash, seconds, outcome.error)
        if self.store is not None:
            self.store.finished(device.name, result.outcome, result.version, result.hash, result.error, seconds)
        self.results[device.name] = result
        self.on_event(FleetEvent("done", device.name, result=result))
        return result

    async def _execute(self, device: FleetDevice) -> JobOutcome:
        def on_step(step: str, detail: str, done: int, total: int) -> None:
            if total:
                self.on_event(FleetEvent("progress", device.name, step, done=done, total=total))
                return
            if self.store is not None:
                self.store.step(device.name, step)
            self.on_event(FleetEvent("step", device.name, step, detail))

        timeout = self.options.device_timeout
        try:
            return await asyncio.wait_for(self.executor.run(device, on_step), timeout)
        except (TimeoutError, asyncio.TimeoutError):
            return JobOutcome(FAILED, error=f"gave up after {timeout:g} s (--device-timeout)")
