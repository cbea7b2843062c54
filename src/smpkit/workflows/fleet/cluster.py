"""Past one machine with Dask distributed (`pip install smpkit[fleet]`).

Each gateway host runs a Dask worker that declares the resource `gateway-NAME`
(`serve_gateway`, i.e. `smpkit fleet worker tcp://SCHEDULER:8786 --gateway NAME`).
`DaskExecutor` sends each device's job to a worker holding its `host`'s resource; the
coordinator keeps the waves, the abort rule, the state file and the report.

When a gateway is lost: Dask reruns a job whose worker died on another worker of the same
gateway (the upgrade flow checks the slots first, so the rerun resumes the device's
upgrade); when no worker of that gateway is connected for `gateway_timeout` seconds, the
device is reported failed ("gateway gw1 not connected"), never waited on forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
import uuid
from collections.abc import Callable
from typing import Any

from smpkit.workflows.fleet.campaign import for_device
from smpkit.workflows.fleet.job import StepCallback, UpgradeSpec, describe, upgrade_device
from smpkit.workflows.fleet.model import FAILED, FleetDevice, JobOutcome

RESOURCE_PREFIX = "gateway-"
#: Upload progress crosses the network at most this often per device.
PROGRESS_INTERVAL = 0.5


def resource(gateway: str) -> str:
    return RESOURCE_PREFIX + gateway


def run_on_gateway(device: FleetDevice, spec: UpgradeSpec, topic: str) -> JobOutcome:
    """The task a gateway's worker runs (in one of its threads): one device's upgrade."""
    from distributed import get_worker

    worker = get_worker()
    gateways = [k.removeprefix(RESOURCE_PREFIX) for k in worker.state.total_resources if k.startswith(RESOURCE_PREFIX)]
    last_progress = 0.0

    def on_step(step: str, detail: str, done: int, total: int) -> None:
        nonlocal last_progress
        if total and done < total:
            now = time.monotonic()
            if now - last_progress < PROGRESS_INTERVAL:
                return
            last_progress = now
        worker.log_event(topic, {"name": device.name, "step": step, "detail": detail, "done": done, "total": total})

    outcome = asyncio.run(upgrade_device(device.conn, spec, board=device.board, on_step=on_step))
    return dataclasses.replace(outcome, ran_on=gateways[0] if gateways else device.host)


class GatewayWatch:
    """Which gateways have a live worker, polled from the scheduler (one poller for all jobs)."""

    def __init__(self, client: Any, interval: float = 0.5) -> None:
        self.client = client
        self.interval = interval
        self.live: set[str] = set()
        self._task: asyncio.Task[None] | None = None
        self._fresh = asyncio.Event()

    async def start(self) -> None:
        await self.poll()
        self._task = asyncio.create_task(self._loop())

    async def poll(self) -> None:
        info = await self.client.scheduler.identity(n_workers=-1)
        live: set[str] = set()
        for worker in info.get("workers", {}).values():
            for key in (worker.get("resources") or {}):
                if str(key).startswith(RESOURCE_PREFIX):
                    live.add(str(key).removeprefix(RESOURCE_PREFIX))
        self.live = live

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            with contextlib.suppress(Exception):  # a scheduler hiccup: keep the last view
                await self.poll()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


class DaskExecutor:
    """Runs each device's job on a worker of its gateway. `async with DaskExecutor(...) as executor:`."""

    def __init__(self, address: str, spec: UpgradeSpec, *, gateway_timeout: float = 30.0,
                 connect_timeout: float = 10.0) -> None:
        self.address = address
        self.spec = spec
        self.gateway_timeout = gateway_timeout
        self.connect_timeout = connect_timeout
        self.topic = f"smpkit-fleet-{uuid.uuid4().hex[:12]}"
        self._listeners: dict[str, StepCallback] = {}
        self._client: Any = None
        self._watch: GatewayWatch | None = None

    async def __aenter__(self) -> DaskExecutor:
        try:
            from distributed import Client
        except ImportError as exc:
            raise ImportError("--cluster needs Dask: pip install 'smpkit[fleet]'") from exc
        self._client = await Client(  # type: ignore[no-untyped-call]
            self.address, asynchronous=True, timeout=self.connect_timeout)
        self._client.subscribe_topic(self.topic, self._event)
        self._watch = GatewayWatch(self._client)
        await self._watch.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._watch is not None:
            await self._watch.stop()
        if self._client is not None:
            await self._client.close()

    def _event(self, event: tuple[float, dict[str, Any]]) -> None:
        msg = event[1]
        listener = self._listeners.get(str(msg.get("name")))
        if listener is not None:
            listener(str(msg["step"]), str(msg["detail"]), int(msg["done"]), int(msg["total"]))

    async def run(self, device: FleetDevice, on_step: StepCallback) -> JobOutcome:
        if device.host is None:
            return JobOutcome(FAILED, error="no `host` in the fleet file: --cluster runs each job on its gateway")
        assert self._client is not None and self._watch is not None
        if not await self._gateway_up(device.host):
            return JobOutcome(FAILED, error=f"gateway {device.host} not connected")
        self._listeners[device.name] = on_step
        future = self._client.submit(run_on_gateway, device, for_device(self.spec, device), self.topic,
                                     resources={resource(device.host): 1}, pure=False,
                                     key=f"smpkit-{device.name}-{uuid.uuid4().hex[:8]}")
        try:
            return await self._follow(device, future)
        finally:
            self._listeners.pop(device.name, None)

    async def _gateway_up(self, gateway: str) -> bool:
        assert self._watch is not None
        deadline = time.monotonic() + self.gateway_timeout
        while gateway not in self._watch.live:
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(self._watch.interval)
        return True

    async def _follow(self, device: FleetDevice, future: Any) -> JobOutcome:
        """The job's outcome; failed when its gateway has had no worker for `gateway_timeout`."""
        assert self._watch is not None and device.host is not None
        waiting = asyncio.ensure_future(future.result())
        lost_since: float | None = None
        try:
            while True:
                done, _ = await asyncio.wait({waiting}, timeout=self._watch.interval)
                if done:
                    try:
                        outcome: JobOutcome = waiting.result()
                    except Exception as exc:  # KilledWorker after repeated losses, and the like
                        first = describe(exc).splitlines()[0]
                        return JobOutcome(FAILED, error=f"on gateway {device.host}: {first}")
                    return outcome
                if device.host in self._watch.live:
                    lost_since = None
                    continue
                lost_since = lost_since or time.monotonic()
                if time.monotonic() - lost_since >= self.gateway_timeout:
                    await future.cancel()
                    return JobOutcome(FAILED, error=f"gateway {device.host} not connected (its worker left)")
        finally:
            if not waiting.done():
                waiting.cancel()


async def serve_gateway(scheduler: str, gateway: str, *, jobs: int = 16, name: str | None = None,
                        on_ready: Callable[[str], None] | None = None) -> None:
    """Run a Dask worker for `gateway` until it is stopped: `jobs` devices at once.

    `on_ready(address)` once the scheduler knows the worker.
    """
    from distributed import Worker

    async with Worker(scheduler, nthreads=jobs, resources={resource(gateway): jobs},
                      name=name or f"{gateway}-{uuid.uuid4().hex[:6]}", dashboard=False) as worker:
        if on_ready is not None:
            on_ready(str(worker.address))
        await worker.finished()


async def serve_scheduler(host: str, port: int, on_ready: Callable[[str], None]) -> None:
    """Run a Dask scheduler in smpkit's environment (it unpickles the jobs, so it needs smpkit)."""
    from distributed import Scheduler

    async with Scheduler(host=host, port=port, dashboard=False) as scheduler:
        on_ready(str(scheduler.address))
        await scheduler.finished()
