"""Transports: UDP, serial, BLE (bleak) and Bumble. Each module is one page."""

from smpkit.transport.base import SMPTransport
from smpkit.transport.errors import (
    SMPClientException,
    SMPDeviceNotFound,
    SMPTransportDisconnected,
    SMPTransportException,
    SMPTransportTimeout,
)

__all__ = [
    "SMPClientException",
    "SMPDeviceNotFound",
    "SMPTransport",
    "SMPTransportDisconnected",
    "SMPTransportException",
    "SMPTransportTimeout",
]
