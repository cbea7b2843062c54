"""Transports: UDP, serial, BLE (bleak) and Bumble. Each module is one page."""

from smpkit.transport.base import SMPTransport
from smpkit.transport.errors import (
    SMPClientException,
    SMPDeviceNotFound,
    SMPRequestLost,
    SMPTransportDisconnected,
    SMPTransportException,
    SMPTransportTimeout,
    SMPUnreadableResponse,
)

__all__ = [
    "SMPClientException",
    "SMPDeviceNotFound",
    "SMPRequestLost",
    "SMPTransport",
    "SMPTransportDisconnected",
    "SMPTransportException",
    "SMPTransportTimeout",
    "SMPUnreadableResponse",
]
