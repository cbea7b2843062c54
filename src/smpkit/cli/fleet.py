"""`smpkit fleet upgrade|run|worker`: the CLI over smpkit.workflows.fleet (the logic lives there)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from smpkit.cli.context import State, state_of
from smpkit.cli.errors import CliError, ExitCode, UsageError
from smpkit.cli.output import Output

fleet_app = typer.Typer(help="Many devices at once: upgrade in waves, run read-only commands, Dask gateways.",
                        no_args_is_help=True)

_PLAN = "Campaign"
_CLUSTER = "Cluster (smpkit[fleet])"
#: Commands `fleet run` accepts: they only read from the device.
READ_ONLY = {("echo",), ("image", "list"), ("image", "slots"), ("os", "info"), ("os", "params"), ("os", "tasks"),
             ("os", "mempools"), ("os", "datetime"), ("os", "bootloader"), ("stat", "list"), ("stat", "show"),
             ("settings", "get"), ("fs", "stat"), ("fs", "hash"), ("enum",)}

DevicesOpt = Annotated[Path, typer.Option("--devices", "-D", exists=True, dir_okay=False, metavar="FLEET.toml",
                                          help="The fleet file: [[device]] tables (name, conn, host, tags, board).")]
TagOpt = Annotated[list[str] | None, typer.Option("--tag", metavar="TAG",
                                                  help="Only devices with this tag (repeat: all of them).")]
ConcurrencyOpt = Annotated[int, typer.Option("--concurrency", "-j", min=1, max=4096,
                                             help="Devices at once (a serial port or BLE adapter still takes one "
                                                  "at a time).", rich_help_panel=_PLAN)]


def register(app: typer.Typer) -> None:
    app.add_typer(fleet_app, name="fleet")


def _load(devices: Path, tags: list[str] | None) -> list[Any]:
    from smpkit.cli.connection import device_url
    from smpkit.workflows.fleet import FleetFileError, load_fleet, select

    try:
        fleet = load_fleet(devices, resolve=device_url)
    except FleetFileError as exc:
        raise UsageError(str(exc), "see docs/fleet.md for the fleet file") from None
    chosen = select(fleet, tags or [])
    if not chosen:
        raise UsageError(f"no device in {devices} has the tag(s) {', '.join(tags or [])}")
    return chosen


def _amount(text: str | None, flag: str) -> Any:
    from smpkit.workflows.fleet import Amount

    if text is None:
        return None
    try:
        return Amount.parse(text)
    except ValueError as exc:
        raise UsageError(f"{flag}: {exc}") from None


@fleet_app.command("upgrade")
def fleet_upgrade(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, metavar="FILE",
                                         help="MCUboot image for every selected device.")],
    devices: DevicesOpt,
    tag: TagOpt = None,
    waves: Annotated[str | None, typer.Option("--waves", metavar="1,10%,100%", rich_help_panel=_PLAN,
                                              help="Cumulative wave sizes, counts or percentages.")] = None,
    max_failures: Annotated[str | None, typer.Option("--max-failures", metavar="N|P%", rich_help_panel=_PLAN,
                                                     help="Stop before the next wave when more devices failed.")
                            ] = None,
    min_executed: Annotated[int | None, typer.Option("--min-executed", min=1, metavar="N", rich_help_panel=_PLAN,
                                                     help="--max-failures applies once N devices ran "
                                                          "(default: the first wave).")] = None,
    concurrency: ConcurrencyOpt = 16,
    ble_links: Annotated[int, typer.Option("--ble-links", min=1, rich_help_panel=_PLAN,
                                           help="Connections one BLE adapter holds at once.")] = 1,
    state_file: Annotated[Path | None, typer.Option("--state", metavar="campaign.sqlite", rich_help_panel=_PLAN,
                                                    help="Record each device's step and outcome; run again to "
                                                         "resume.")] = None,
    device_timeout: Annotated[float | None, typer.Option("--device-timeout", metavar="SECONDS",
                                                         rich_help_panel=_PLAN,
                                                         help="Give up on one device after this long.")] = None,
    junit: Annotated[Path | None, typer.Option("--junit", metavar="FILE", help="Write a JUnit XML report.")] = None,
    cluster: Annotated[str | None, typer.Option("--cluster", metavar="tcp://SCHEDULER:8786",
                                                rich_help_panel=_CLUSTER,
                                                help="Run each device's job on its host's gateway worker.")] = None,
    gateway_timeout: Annotated[float, typer.Option("--gateway-timeout", metavar="SECONDS", rich_help_panel=_CLUSTER,
                                                   help="Report a device failed when its gateway has no worker "
                                                        "this long.")] = 30.0,
    no_confirm: Annotated[bool, typer.Option("--no-confirm", help="Leave the new image unconfirmed.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Read each device's state; change nothing.")] = False,
    image: Annotated[int, typer.Option("--image", "-n", help="Image number on multi-image devices.")] = 0,
    reconnect_timeout: Annotated[float, typer.Option("--reconnect-timeout",
                                                     help="Seconds to wait for a device after its reset.")] = 30.0,
    erase_timeout: Annotated[float | None, typer.Option("--erase-timeout", metavar="SECONDS",
                                                        help="Wait for the first chunk's answer (the device erases "
                                                             "the slot first; default 30).")] = None,
) -> None:
    """Upgrade every selected device: waves, abort rule, resumable state, live view, report."""
    from smpkit.cli.transfer import load_image
    from smpkit.workflows.fleet import AbortRule, CampaignOptions, UpgradeSpec, parse_waves

    state = state_of(ctx)
    chosen = _load(devices, tag)
    loaded = load_image(file)
    if getattr(loaded, "hash", None) is None:
        raise UsageError(f"{file}: the image has no SHA-256 TLV", "sign it with imgtool (it adds the hash)")
    try:
        amounts = parse_waves(waves)
    except ValueError as exc:
        raise UsageError(f"--waves: {exc}") from None
    options = CampaignOptions(amounts, AbortRule(_amount(max_failures, "--max-failures"), min_executed),
                              concurrency, ble_links, device_timeout)
    # The upgrade options pass through untouched: new `smpkit upgrade` options only add keys here.
    upgrade_options: dict[str, Any] = {"confirm": not no_confirm, "dry_run": dry_run, "image": image,
                                       "reconnect_timeout": reconnect_timeout}
    if erase_timeout is not None:
        upgrade_options["first_timeout"] = erase_timeout
    spec = UpgradeSpec(file.read_bytes(), upgrade_options, timeout=state.timeout, retries=state.retries)
    report = _run_campaign(state, chosen, spec, options, state_file, cluster, gateway_timeout)
    report.extra["image"] = {"file": str(file), "version": str(loaded.version), "hash": loaded.hash.hex()}
    _finish(state, report, junit, "smpkit fleet upgrade")


def _run_campaign(state: State, chosen: list[Any], spec: Any, options: Any, state_file: Path | None,
                  cluster: str | None, gateway_timeout: float) -> Any:
    from smpkit.cli.fleet_view import FleetView
    from smpkit.workflows.fleet import Campaign, CampaignStore, LocalExecutor

    store = CampaignStore(state_file) if state_file is not None else None
    target = spec.target

    async def go() -> Any:
        with FleetView(state.out, len(chosen)) as view:
            if cluster is None:
                return await Campaign(chosen, LocalExecutor(spec), options, target=target, store=store,
                                      on_event=view).run()
            executor = _dask_executor(cluster, spec, gateway_timeout)
            async with executor:
                return await Campaign(chosen, executor, options, target=target, store=store, on_event=view).run()

    try:
        return asyncio.run(go())
    except OSError as exc:
        raise CliError(f"fleet upgrade: cannot reach the Dask scheduler {cluster}: {exc}", ExitCode.CONNECTION,
                       "start it with `dask scheduler` and the gateways with `smpkit fleet worker`") from None
    finally:
        if store is not None:
            store.close()


def _dask_executor(address: str, spec: Any, gateway_timeout: float) -> Any:
    try:
        import distributed  # noqa: F401

        from smpkit.workflows.fleet.cluster import DaskExecutor
    except ImportError:
        raise UsageError("--cluster needs Dask", "pip install 'smpkit[fleet]'") from None
    return DaskExecutor(address, spec, gateway_timeout=gateway_timeout)


def _finish(state: State, report: Any, junit: Path | None, suite: str) -> None:
    from smpkit.workflows.fleet.junit import write_junit

    if junit is not None:
        write_junit(report, junit, suite)
    summary = report.summary()
    if state.out.json_mode:
        state.out.json(report.to_json())
    else:
        failed = [r for r in report.results if r.outcome == "failed"]
        if failed:
            state.out.show(lambda: _failures_table(state, failed))
        text = ", ".join(f"{k} {v}" for k, v in summary.items())
        state.out.info(f"fleet: {text}" + (f" ({report.abort_reason})" if report.aborted else ""))
    if report.failed:
        raise typer.Exit(int(ExitCode.ERROR))


def _failures_table(state: State, failed: list[Any]) -> Any:
    table = state.out.table("device", "host", "error", title="failed")
    for result in failed:
        table.add_row(result.name, result.host or "", result.error or "")
    return table


# ---- fleet run ---------------------------------------------------------------------------------


@fleet_app.command("run", context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
def fleet_run(
    ctx: typer.Context,
    devices: DevicesOpt,
    command: Annotated[list[str], typer.Argument(metavar="COMMAND...",
                                                 help="A read-only command: image list, os info, stat show NAME, "
                                                      "...")],
    tag: TagOpt = None,
    concurrency: ConcurrencyOpt = 16,
    junit: Annotated[Path | None, typer.Option("--junit", metavar="FILE", help="Write a JUnit XML report.")] = None,
) -> None:
    """Run a read-only command on every selected device and gather the answers."""
    from smpkit.workflows.fleet import Campaign, CampaignOptions

    state = state_of(ctx)
    chosen = _load(devices, tag)
    captured = _parse_command(command)
    executor = _CommandExecutor(captured, state)

    async def go() -> Any:
        from smpkit.cli.fleet_view import FleetView

        with FleetView(state.out, len(chosen)) as view:
            return await Campaign(chosen, executor, CampaignOptions(concurrency=concurrency), target="",
                                  on_event=view).run()

    report = asyncio.run(go())
    for result in report.results:
        result.outcome = "ok" if result.outcome != "failed" else "failed"
    if state.out.json_mode:
        ok = sum(1 for r in report.results if r.outcome == "ok")
        state.out.json({"command": command, "summary": {"ok": ok, "failed": report.failed},
                        "devices": [{**r.to_json(), "answer": executor.answers.get(r.name)} for r in report.results]})
    else:
        _print_answers(state, report, executor.answers)
    if junit is not None:
        from smpkit.workflows.fleet.junit import write_junit

        write_junit(report, junit, "smpkit fleet run " + " ".join(command))
    if report.failed:
        raise typer.Exit(int(ExitCode.ERROR))


def _parse_command(words: list[str]) -> Any:
    from smpkit.cli.context import capture_bodies
    from smpkit.cli.main import CLICK_EXCEPTION, app

    head = tuple(words[:2]) if tuple(words[:2]) in READ_ONLY else tuple(words[:1])
    if head not in READ_ONLY:
        known = ", ".join(" ".join(c) for c in sorted(READ_ONLY))
        raise UsageError(f"`{' '.join(words)}` is not a read-only command", f"fleet run takes: {known}")
    command = typer.main.get_command(app)
    with capture_bodies() as found:
        try:
            command.main(args=list(words), prog_name="smpkit fleet run", standalone_mode=False)
        except CLICK_EXCEPTION as exc:
            raise UsageError(f"fleet run {' '.join(words)}: {exc}") from None
    if len(found) != 1:
        raise UsageError(f"`{' '.join(words)}` does not talk to a device")
    return found[0]


class _CommandExecutor:
    """Runs a captured command body against each device, keeping the JSON it would print."""

    def __init__(self, captured: Any, state: State) -> None:
        self.captured = captured
        self.state = state
        self.answers: dict[str, Any] = {}

    async def run(self, device: Any, on_step: Any) -> Any:
        from smpkit.cli.output import jsonable
        from smpkit.workflows.fleet import FAILED, JobOutcome, with_device
        from smpkit.workflows.fleet.job import describe

        out = _Capture()
        device_state = State(out=out)
        timeout = device.timeout if device.timeout is not None else self.state.timeout
        retries = device.retries if device.retries is not None else self.state.retries
        try:
            await with_device(device.conn, lambda client: self.captured.body(client, device_state),
                              timeout=timeout, retries=retries)
        except Exception as exc:
            return JobOutcome(FAILED, error=f"{self.captured.what}: {describe(exc)}")
        self.answers[device.name] = jsonable(out.data[0] if len(out.data) == 1 else out.data)
        return JobOutcome("ok")


class _Capture(Output):
    """An `Output` in JSON mode that keeps what a command emits instead of printing it."""

    def __init__(self) -> None:
        super().__init__(json_mode=True, quiet=True)
        self.data: list[Any] = []

    def json(self, data: Any) -> None:
        self.data.append(data)


def _print_answers(state: State, report: Any, answers: dict[str, Any]) -> None:
    import json

    from smpkit.cli.output import jsonable

    for result in report.results:
        if result.outcome == "failed":
            state.out.error(f"{result.name}: error: {result.error}")
        else:
            print(f"{result.name}: {json.dumps(jsonable(answers.get(result.name)), separators=(',', ':'))}")


@fleet_app.command("scheduler")
def fleet_scheduler(
    listen: Annotated[str, typer.Option("--listen", metavar="HOST:PORT",
                                        help="Address to listen on (port 0: any).")] = "0.0.0.0:8786",
) -> None:
    """Run the Dask scheduler the gateways and `fleet upgrade --cluster` meet at (`dask scheduler` works too,
    in an environment with smpkit installed)."""
    try:
        from smpkit.workflows.fleet.cluster import serve_scheduler
    except ImportError:
        raise UsageError("the fleet scheduler needs Dask", "pip install 'smpkit[fleet]'") from None
    host, _, port = listen.rpartition(":")
    if not port.isdigit():
        raise UsageError(f"--listen {listen!r}: give HOST:PORT")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_scheduler(host or "0.0.0.0", int(port),
                                    lambda address: print(f"scheduler at {address}", flush=True)))


# ---- fleet worker ------------------------------------------------------------------------------


@fleet_app.command("worker")
def fleet_worker(
    scheduler: Annotated[str, typer.Argument(metavar="tcp://SCHEDULER:8786", help="The Dask scheduler.")],
    gateway: Annotated[str, typer.Option("--gateway", metavar="NAME", help="This host's name in the fleet file's "
                                                                          "`host`.")],
    jobs: Annotated[int, typer.Option("--jobs", min=1, max=1024, help="Devices this gateway upgrades at "
                                                                      "once.")] = 16,
) -> None:
    """Serve a gateway: a Dask worker that runs the jobs of the devices whose `host` is NAME."""
    try:
        import distributed  # noqa: F401

        from smpkit.workflows.fleet.cluster import serve_gateway
    except ImportError:
        raise UsageError("the fleet worker needs Dask", "pip install 'smpkit[fleet]'") from None
    started = time.monotonic()

    def ready(address: str) -> None:
        print(f"gateway {gateway}: worker {address} joined {scheduler} ({jobs} jobs)", flush=True)

    try:
        asyncio.run(serve_gateway(scheduler, gateway, jobs=jobs, on_ready=ready))
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        raise CliError(f"fleet worker: cannot reach the scheduler {scheduler}: {exc}", ExitCode.CONNECTION) from None
    print(f"gateway {gateway}: stopped after {time.monotonic() - started:.0f} s", flush=True)
