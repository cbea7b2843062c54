"""A simulated Zephyr SMP (MCUmgr) device for tests, benchmarks, demos and tool development.

```python
from smpkit.simulator import Simulator, SimulatorConfig, Faults
async with Simulator(SimulatorConfig(buf_size=2048, buf_count=4)) as sim:
    server = await sim.serve_udp("127.0.0.1", 0)   # server.url == "udp://127.0.0.1:PORT"
```
"""

from smpkit.simulator.config import DeviceProfile, SimulatorConfig, resolve_profile
from smpkit.simulator.device import Device
from smpkit.simulator.faults import Faults
from smpkit.simulator.server import RequestProcessor, RequestRecord
from smpkit.simulator.session import Session
from smpkit.simulator.simulator import Simulator

__all__ = [
    "Device",
    "DeviceProfile",
    "Faults",
    "RequestProcessor",
    "RequestRecord",
    "Session",
    "Simulator",
    "SimulatorConfig",
    "resolve_profile",
]
