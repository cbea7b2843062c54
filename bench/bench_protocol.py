"""Protocol-core figures: import time, and image-upload encode+decode speed against the PyPI `smp` package.

Run: .venv/bin/python bench/bench_protocol.py     (bench/run_all.py calls `main()`)

* import: wall time of `python -c "import smpkit.protocol"` in a fresh interpreter, median of 10
  runs (target < 50 ms), next to a bare `python -c pass` and the import alone timed inside the child.
* codec: one operation = build a 256-byte image-upload request, encode it to bytes, and decode a
  Zephyr-style `{"off": N}` response (indefinite-length map, as Zephyr sends it) to a typed
  response. smpkit and `smp` run the same work in the same process, interleaved, best of 5
  rounds each (target: smpkit >= 5x the ops/s of `smp`).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

IMPORT_RUNS = 10
IMPORT_TARGET_MS = 50.0
RATIO_TARGET = 5.0
ROUNDS = 5
ROUND_SECONDS = 0.25

CHUNK = bytes((i * 31 + 7) & 0xFF for i in range(256))
OFFSET = 4096
#: Zephyr's answer to that chunk: {"off": 4352} as an indefinite-length map, v2 write response, seq 7.
RESPONSE = bytes.fromhex("0b00000900010701") + bytes.fromhex("bf636f666619" + f"{OFFSET + len(CHUNK):04x}" + "ff")
SEQUENCE = 7


def _run_child(code: str) -> tuple[float, str]:
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return (time.perf_counter() - started) * 1000, out


def measure_import() -> dict[str, float]:
    """Medians in ms: the whole `python -c "import smpkit.protocol"`, a bare interpreter, the import alone."""
    timed_import = "import time; t = time.perf_counter(); import smpkit.protocol; print(time.perf_counter() - t)"
    totals, bare, inside = [], [], []
    _run_child("import smpkit.protocol")  # warm the file-system cache and the .pyc files
    for _ in range(IMPORT_RUNS):
        totals.append(_run_child("import smpkit.protocol")[0])
        bare.append(_run_child("pass")[0])
        inside.append(float(_run_child(timed_import)[1]) * 1000)
    return {
        "import_wall_ms": statistics.median(totals),
        "interpreter_wall_ms": statistics.median(bare),
        "import_only_ms": statistics.median(inside),
    }


def smpkit_roundtrip() -> Callable[[], int]:
    from smpkit.protocol import decode_message, encode_request, parse_response
    from smpkit.protocol.groups.image import ImageUpload

    def run() -> int:
        request = ImageUpload(off=OFFSET, data=CHUNK)
        raw = encode_request(request, SEQUENCE)
        response = parse_response(request, decode_message(RESPONSE).body)
        return len(raw) + response.off

    return run


def smp_roundtrip() -> Callable[[], int]:
    from smp.image_management import ImageUploadWriteRequest, ImageUploadWriteResponse

    def run() -> int:
        raw = bytes(ImageUploadWriteRequest(off=OFFSET, data=CHUNK, sequence=SEQUENCE))
        response = ImageUploadWriteResponse.loads(RESPONSE)
        assert response.off is not None
        return len(raw) + response.off

    return run


def check_same_work() -> None:
    """Both sides must produce equivalent bytes and the same answer, or the comparison means nothing."""
    from smp.image_management import ImageUploadWriteRequest

    from smpkit.protocol import decode_message, encode_request
    from smpkit.protocol.groups.image import ImageUpload

    ours = decode_message(encode_request(ImageUpload(off=OFFSET, data=CHUNK), SEQUENCE))
    theirs = decode_message(bytes(ImageUploadWriteRequest(off=OFFSET, data=CHUNK, sequence=SEQUENCE)))
    assert ours.header == theirs.header and ours.body == theirs.body
    assert smpkit_roundtrip()() == smp_roundtrip()()


def _ops_per_second(fn: Callable[[], int]) -> float:
    """Loops of `fn` for about ROUND_SECONDS."""
    n, elapsed = 0, 0.0
    batch = 200
    started = time.perf_counter()
    while elapsed < ROUND_SECONDS:
        for _ in range(batch):
            fn()
        n += batch
        elapsed = time.perf_counter() - started
    return n / elapsed


def measure_codec() -> dict[str, float]:
    check_same_work()
    ours, theirs = smpkit_roundtrip(), smp_roundtrip()
    ours_rates, theirs_rates = [], []
    for _ in range(ROUNDS):  # interleaved so that both see the same machine load
        ours_rates.append(_ops_per_second(ours))
        theirs_rates.append(_ops_per_second(theirs))
    smpkit_ops, smp_ops = max(ours_rates), max(theirs_rates)
    return {"smpkit_ops_per_s": smpkit_ops, "smp_ops_per_s": smp_ops, "speedup": smpkit_ops / smp_ops}


def main() -> dict[str, float | bool]:
    imports = measure_import()
    print(
        f"import smpkit.protocol: {imports['import_wall_ms']:.1f} ms wall in a fresh interpreter "
        f"(median of {IMPORT_RUNS}; bare interpreter {imports['interpreter_wall_ms']:.1f} ms, "
        f"the import itself {imports['import_only_ms']:.1f} ms); target < {IMPORT_TARGET_MS:.0f} ms"
    )
    codec = measure_codec()
    print(
        f"image upload, 256-byte chunk, encode request + decode response (cpu {os.cpu_count()}):\n"
        f"  smpkit {codec['smpkit_ops_per_s']:>10,.0f} ops/s\n"
        f"  smp    {codec['smp_ops_per_s']:>10,.0f} ops/s\n"
        f"  smpkit / smp = {codec['speedup']:.1f}x (target >= {RATIO_TARGET:.0f}x)"
    )
    return {
        **imports,
        **codec,
        "import_ok": imports["import_wall_ms"] < IMPORT_TARGET_MS,
        "speedup_ok": codec["speedup"] >= RATIO_TARGET,
    }


if __name__ == "__main__":
    figures = main()
    sys.exit(0 if figures["import_ok"] and figures["speedup_ok"] else 1)
