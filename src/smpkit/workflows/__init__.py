"""Multi-request jobs on top of the client: image upload, the upgrade flow, file transfers.

```python
from smpkit.workflows import upload, upgrade, upload_file, download_file
result = await upload(client, "zephyr.signed.bin")          # or: async for progress in upload(...)
outcome = await upgrade(client, "zephyr.signed.bin", confirm=True)
```
"""

from smpkit.workflows.files import (
    FileTransferError,
    FileTransferInterrupted,
    FileTransferResult,
    FileVerificationFailed,
    LocalFileExists,
    download_bytes,
    download_file,
    upload_file,
    verify_remote,
)
from smpkit.workflows.progress import Operation, Progress, TransferError, TransferInterrupted, VerificationFailed
from smpkit.workflows.upgrade import Step, StepEvent, UpgradeError, UpgradeResult, upgrade
from smpkit.workflows.upload import (
    UploadError,
    UploadInterrupted,
    UploadResult,
    UploadVerificationFailed,
    upload,
    upload_image,
)

__all__ = [
    "FileTransferError",
    "FileTransferInterrupted",
    "FileTransferResult",
    "FileVerificationFailed",
    "LocalFileExists",
    "Operation",
    "Progress",
    "Step",
    "StepEvent",
    "TransferError",
    "TransferInterrupted",
    "UpgradeError",
    "UpgradeResult",
    "UploadError",
    "UploadInterrupted",
    "UploadResult",
    "UploadVerificationFailed",
    "VerificationFailed",
    "download_bytes",
    "download_file",
    "upgrade",
    "upload",
    "upload_file",
    "upload_image",
    "verify_remote",
]
