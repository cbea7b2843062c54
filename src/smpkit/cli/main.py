"""Entry point of the `smpkit` command.

Only typer and the standard library are imported at module load: the client,
the simulator, Bumble, bleak and most of rich load inside the commands that
need them, so that `smpkit --help` answers fast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from smpkit import __version__
from smpkit.cli import commands, demo, files, fleet, images, scan
from smpkit.cli.connection import ConnectionFlags
from smpkit.cli.context import CommandFailed, State, setup_logging
from smpkit.cli.errors import CliError, ExitCode, classify
from smpkit.cli.output import Output

HELP = """Manage Zephyr/MCUboot devices over SMP (MCUmgr): UDP, serial and Bluetooth LE.

Give the connection before the command, e.g.:

    smpkit --udp 127.0.0.1:1337 image list

    smpkit --serial /dev/ttyACM0 --json os params

Try `smpkit demo` first: it runs a whole upgrade against the built-in simulator.
"""

EPILOG = ("Exit codes: 0 ok, 1 unexpected error, 2 usage, 3 connection or timeout, "
          "4 device-reported error, 5 verification failed.")

app = typer.Typer(
    name="smpkit",
    help=HELP,
    epilog=EPILOG,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)

_CONN = "Connection"
_OUT = "Output"


def _version(value: bool) -> None:
    if value:
        print(f"smpkit {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    udp: Annotated[str | None, typer.Option("--udp", metavar="HOST[:PORT]", rich_help_panel=_CONN,
                                            help="Device on UDP (port 1337 when omitted; IPv6 as [::1]:1337).")] = None,
    serial: Annotated[str | None, typer.Option("--serial", metavar="PORT", rich_help_panel=_CONN,
                                               help="Device on a serial port, e.g. /dev/ttyACM0.")] = None,
    baud: Annotated[int | None, typer.Option("--baud", metavar="N", rich_help_panel=_CONN,
                                             help="Serial baud rate (default: the transport's, 115200).")] = None,
    raw: Annotated[bool, typer.Option("--raw", rich_help_panel=_CONN,
                                      help="Serial: raw SMP bytes instead of console framing.")] = False,
    ble: Annotated[str | None, typer.Option("--ble", metavar="NAME|ADDRESS", rich_help_panel=_CONN,
                                            help="Device on Bluetooth LE, by advertised name or address.")] = None,
    hci: Annotated[str | None, typer.Option("--hci", metavar="SPEC", rich_help_panel=_CONN,
                                            help="Use Bumble on this HCI transport (usb:0, tcp-client:HOST:PORT, ...) "
                                                 "instead of the OS Bluetooth stack.")] = None,
    conn: Annotated[str | None, typer.Option("--conn", metavar="URL", rich_help_panel=_CONN,
                                             help="Connection string: udp://, serial://, ble://, bumble:// "
                                                  "[env: SMPKIT_CONN].")] = None,
    device: Annotated[str | None, typer.Option("--device", "-d", metavar="NAME", rich_help_panel=_CONN,
                                               help="A named device from ~/.config/smpkit/devices.toml or "
                                                    "./smpkit.toml [env: SMPKIT_DEVICE].")] = None,
    config: Annotated[Path | None, typer.Option("--config", metavar="FILE", rich_help_panel=_CONN,
                                                help="An extra devices file [env: SMPKIT_CONFIG].")] = None,
    timeout: Annotated[float | None, typer.Option("--timeout", "-t", metavar="SECONDS", envvar="SMPKIT_TIMEOUT",
                                                  help="Seconds to wait for each answer (default 2.5).")] = None,
    retries: Annotated[int | None, typer.Option("--retries", metavar="N", envvar="SMPKIT_RETRIES",
                                                help="Retries of a request that got no answer.")] = None,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, rich_help_panel=_OUT,
                                         help="More logging (-vv for debug).")] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", rich_help_panel=_OUT,
                                        help="Only results and errors.")] = False,
    log_file: Annotated[Path | None, typer.Option("--log-file", metavar="FILE", envvar="SMPKIT_LOG_FILE",
                                                  rich_help_panel=_OUT,
                                                  help="Write a debug log (every packet) to FILE.")] = None,
    json_: Annotated[bool, typer.Option("--json", envvar="SMPKIT_JSON", rich_help_panel=_OUT,
                                        help="Print one JSON document (schemas in docs/cli.md).")] = False,
    debug: Annotated[bool, typer.Option("--debug", envvar="SMPKIT_DEBUG", rich_help_panel=_OUT,
                                        help="Show tracebacks.")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Global options go before the command."""
    flags = ConnectionFlags(conn=conn, udp=udp, serial=serial, baud=baud, raw=raw, ble=ble, hci=hci,
                            device=device, config=config)
    ctx.obj = State(flags=flags, out=Output(json_mode=json_, quiet=quiet, verbose=verbose), timeout=timeout,
                    retries=retries, debug=debug, log_file=log_file)
    setup_logging(verbose, quiet, log_file)


commands.register(app)
images.register(app)
files.register(app)
scan.register(app)
demo.register(app)
fleet.register(app)


@app.command(
    "simulate",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []},
    add_help_option=False,
)
def simulate(ctx: typer.Context) -> None:
    """Run the device simulator (UDP, serial pseudo-terminal or BLE) until interrupted.

    See `smpkit simulate --help`.
    """
    from smpkit.cli.simulate_bridge import run_simulate

    raise typer.Exit(run_simulate(list(ctx.args)))


#: click's base exception class (typer may vendor its own copy of click).
CLICK_EXCEPTION: type[Exception] = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


def _argv_debug(args: list[str]) -> bool:
    import os

    return "--debug" in args or os.environ.get("SMPKIT_DEBUG", "").lower() in ("1", "true", "yes")


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point: run the app and turn failures into one line and an exit code."""
    args = sys.argv[1:] if argv is None else list(argv)
    debug = _argv_debug(args)
    command = typer.main.get_command(app)
    try:
        result = command.main(args=args, prog_name="smpkit", standalone_mode=False)
        return int(result) if isinstance(result, int) else 0
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.Abort:
        sys.stderr.write("aborted\n")
        return int(ExitCode.INTERRUPTED)
    except CLICK_EXCEPTION as exc:
        exc.show()  # type: ignore[attr-defined]
        return int(exc.exit_code)  # type: ignore[attr-defined]
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return int(ExitCode.INTERRUPTED)
    except (CliError, CommandFailed) as exc:
        return _report(exc, debug)
    except Exception as exc:
        return _report(exc, debug)


def _report(exc: BaseException, debug: bool) -> int:
    if isinstance(exc, CommandFailed):
        failure = classify(_leaf(exc.exc), exc.what, exc.url)
        cause: BaseException = exc.exc
    else:
        failure = classify(_leaf(exc), "smpkit", None)
        cause = exc
    if debug:
        import traceback

        traceback.print_exception(type(cause), cause, cause.__traceback__)
    Output().error(failure.line())
    return int(failure.code)


def _leaf(exc: BaseException) -> BaseException:
    """The first real exception inside exception groups (asyncio.TaskGroup wraps them)."""
    while type(exc).__name__ in ("ExceptionGroup", "BaseExceptionGroup") and getattr(exc, "exceptions", None):
        exc = exc.exceptions[0]  # type: ignore[attr-defined]
    return exc


if __name__ == "__main__":
    sys.exit(main())
