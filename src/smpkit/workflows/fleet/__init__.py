"""Fleets: upgrade or query many devices in waves, with an abort rule, a state file and a report.

```python
from smpkit.workflows.fleet import Campaign, CampaignOptions, LocalExecutor, UpgradeSpec, load_fleet
devices = load_fleet(Path("fleet.toml"))
spec = UpgradeSpec(Path("app.signed.bin").read_bytes(), {"confirm": True})
report = await Campaign(devices, LocalExecutor(spec), CampaignOptions(), target=spec.target).run()
```

Layout: `fleetfile` (the TOML file), `plan` (waves, abort rule), `limits` (per-link
concurrency), `store` (SQLite state), `job` (one device: the seam to the upgrade flow),
`campaign` (the coordinator), `cluster` (Dask executor and gateway worker; needs
`smpkit[fleet]`, imported only when used).
"""

from smpkit.workflows.fleet.campaign import Campaign, CampaignOptions, Executor, LocalExecutor
from smpkit.workflows.fleet.fleetfile import FleetFileError, load_fleet, select
from smpkit.workflows.fleet.job import BoardMismatch, UpgradeSpec, upgrade_device, with_device
from smpkit.workflows.fleet.model import (
    ALREADY,
    FAILED,
    PLANNED,
    SKIPPED,
    UPGRADED,
    CampaignReport,
    DeviceResult,
    FleetDevice,
    FleetEvent,
    JobOutcome,
)
from smpkit.workflows.fleet.plan import AbortRule, Amount, parse_waves, split_waves
from smpkit.workflows.fleet.store import CampaignStore

__all__ = [
    "ALREADY",
    "FAILED",
    "PLANNED",
    "SKIPPED",
    "UPGRADED",
    "AbortRule",
    "Amount",
    "BoardMismatch",
    "Campaign",
    "CampaignOptions",
    "CampaignReport",
    "CampaignStore",
    "DeviceResult",
    "Executor",
    "FleetDevice",
    "FleetEvent",
    "FleetFileError",
    "JobOutcome",
    "LocalExecutor",
    "UpgradeSpec",
    "load_fleet",
    "parse_waves",
    "select",
    "split_waves",
    "upgrade_device",
    "with_device",
]
