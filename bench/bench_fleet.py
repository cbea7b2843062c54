"""200 simulated devices upgraded by one `smpkit fleet upgrade`, against a shell loop of `smpkit upgrade`.

One `smpkit simulate --count N --loss 0.05` process serves the fleet (5 % of requests
lost, each device its own port and state); the image is 60 KB. Printed: the campaign's
wall time, the coordinator's peak memory (and what each device adds, against a one-device
campaign) and CPU per device; then a shell loop of single `smpkit upgrade` runs over a few
fresh devices, extrapolated to N (the loop's time grows linearly with N).

Environment: SMPKIT_BENCH_FLEET_N (default 200), SMPKIT_BENCH_FLEET_LOOP (default 12),
SMPKIT_BENCH_FLEET_JOBS (default 64).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from smpkit.image.build import make_image, make_test_body

SMPKIT = [sys.executable, "-m", "smpkit.cli.main"]
#: The same per-request settings for the fleet and the loop.
REQUEST = ("--timeout", "0.5", "--retries", "5")
LOSS = "0.05"


class Sims:
    def __init__(self, count: int) -> None:
        self.proc = subprocess.Popen([*SMPKIT, "simulate", "--udp", "127.0.0.1:0", "--count", str(count), "-q",
                                      "--loss", LOSS], stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        self.urls = [self.proc.stdout.readline().split()[-1] for _ in range(count)]

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def run_fleet(folder: Path, sims: Sims, image: Path, jobs: int, tag: str, *extra: str) -> dict[str, float]:
    fleet = folder / f"fleet-{tag}.toml"
    fleet.write_text("".join(f'[[device]]\nname = "dev-{i:03d}"\nconn = "{url}"\n\n'
                             for i, url in enumerate(sims.urls)))
    sim_cpu = sims.cpu_seconds()
    started = time.perf_counter()
    command = [*SMPKIT, *REQUEST, "--json", "fleet", "upgrade", str(image), "--devices", str(fleet),
               "--concurrency", str(jobs), *extra]
    done = subprocess.run(_with_rusage(command), capture_output=True, text=True)
    wall = time.perf_counter() - started
    usage = json.loads(done.stderr.strip().splitlines()[-1])
    report = json.loads(done.stdout)
    return {"wall_s": wall, "cpu_s": usage["cpu"], "peak_kib": usage["maxrss"],
            "sim_cpu_s": sims.cpu_seconds() - sim_cpu, "upgraded": report["summary"]["upgraded"],
            "failed": report["summary"]["failed"], "slowest_s": max(d["seconds"] for d in report["devices"])}


def _with_rusage(cmd: list[str]) -> list[str]:
    """Run `cmd` under a tiny Python wrapper that prints the child's own rusage as JSON on stderr."""
    wrapper = ("import json,os,subprocess,sys\n"
               "p=subprocess.Popen(sys.argv[1:])\n"
               "_,s,u=os.wait4(p.pid,0)\n"
               "sys.stderr.write(json.dumps({'cpu':u.ru_utime+u.ru_stime,'maxrss':u.ru_maxrss})+'\\n')\n"
               "sys.exit(os.waitstatus_to_exitcode(s))")
    return [sys.executable, "-c", wrapper, *cmd]


def run_loop(sims: Sims, image: Path) -> tuple[float, int]:
    started = time.perf_counter()
    ok = 0
    for url in sims.urls:
        done = subprocess.run([*SMPKIT, *REQUEST, "--conn", url, "upgrade", str(image)], capture_output=True)
        ok += done.returncode == 0
    return time.perf_counter() - started, ok


def main() -> dict[str, object]:
    count = int(os.environ.get("SMPKIT_BENCH_FLEET_N", "200"))
    loop_n = int(os.environ.get("SMPKIT_BENCH_FLEET_LOOP", "12"))
    jobs = int(os.environ.get("SMPKIT_BENCH_FLEET_JOBS", "64"))
    with tempfile.TemporaryDirectory(prefix="smpkit-bench-fleet-") as tmp:
        folder = Path(tmp)
        image = folder / "app.bin"
        image.write_bytes(make_image(make_test_body(60_000, seed=7), "2.0.0"))
        one = Sims(1)
        try:
            single = run_fleet(folder, one, image, 1, "one")
        finally:
            one.stop()
        sims = Sims(count)
        try:
            fleet = run_fleet(folder, sims, image, jobs, "all")
        finally:
            sims.stop()
        sims = Sims(count)
        try:  # the same on fresh devices, a lost first chunk costing 1 s instead of 30 s
            quick = run_fleet(folder, sims, image, jobs, "quick", "--erase-timeout", "1")
        finally:
            sims.stop()
        loop_sims = Sims(loop_n)
        try:
            loop_s, loop_ok = run_loop(loop_sims, image)
        finally:
            loop_sims.stop()
    per_device_kib = (fleet["peak_kib"] - single["peak_kib"]) / max(1, count - 1)
    loop_per_device = loop_s / loop_n
    result: dict[str, object] = {
        "devices": count, "concurrency": jobs, "loss": float(LOSS), "image_bytes": image_size(),
        "fleet_wall_s": round(fleet["wall_s"], 2), "upgraded": fleet["upgraded"], "failed": fleet["failed"],
        "slowest_device_s": round(fleet["slowest_s"], 2),
        "fleet_erase_timeout_1s_wall_s": round(quick["wall_s"], 2),
        "fleet_erase_timeout_1s_upgraded": quick["upgraded"],
        "fleet_erase_timeout_1s_slowest_s": round(quick["slowest_s"], 2),
        "coordinator_peak_mib": round(fleet["peak_kib"] / 1024, 1),
        "one_device_peak_mib": round(single["peak_kib"] / 1024, 1),
        "memory_per_device_kib": round(per_device_kib, 1),
        "cpu_per_device_ms": round(1000 * fleet["cpu_s"] / count, 1),
        "simulator_cpu_per_device_ms": round(1000 * fleet["sim_cpu_s"] / count, 1),
        "loop_devices": loop_n, "loop_ok": loop_ok, "loop_per_device_s": round(loop_per_device, 2),
        "loop_extrapolated_s": round(loop_per_device * count, 1),
        "speedup": round(loop_per_device * count / fleet["wall_s"], 1),
    }
    print(f"fleet upgrade: {count} devices, {float(LOSS):.0%} loss, 60 KB image, -j {jobs}: "
          f"{fleet['wall_s']:.1f} s wall, {fleet['upgraded']:.0f} upgraded, {fleet['failed']:.0f} failed "
          f"(slowest device {fleet['slowest_s']:.1f} s)")
    print(f"  with --erase-timeout 1 (fresh devices): {quick['wall_s']:.1f} s wall, {quick['upgraded']:.0f} upgraded "
          f"(slowest device {quick['slowest_s']:.1f} s)")
    print(f"coordinator: peak {result['coordinator_peak_mib']} MiB ({result['one_device_peak_mib']} MiB for one "
          f"device; {per_device_kib:.0f} KiB per extra device), CPU {result['cpu_per_device_ms']} ms per device "
          f"(simulator: {result['simulator_cpu_per_device_ms']} ms per device)")
    print(f"shell loop of `smpkit upgrade`: {loop_n} devices in {loop_s:.1f} s ({loop_per_device:.2f} s each, "
          f"{loop_ok} ok) -> {loop_per_device * count:.0f} s for {count}: fleet is {result['speedup']}x faster")
    return result


def image_size() -> int:
    return len(make_image(make_test_body(60_000, seed=7), "2.0.0"))


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
