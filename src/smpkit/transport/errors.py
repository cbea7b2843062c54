"""Exceptions of the client and its transports."""

from __future__ import annotations

from smpkit.protocol.errors import SMPError


class SMPClientException(SMPError):
    """Base of every error raised by the client and its transports (name kept from the existing Python client)."""


class SMPTransportException(SMPClientException):
    """A transport failed to connect, send or receive."""


class SMPTransportDisconnected(SMPTransportException):
    """The link went down (or was never up) while a packet was sent or awaited."""


class SMPTransportTimeout(SMPTransportException, TimeoutError):
    """The device did not answer in time."""


class SMPDeviceNotFound(SMPTransportException):
    """No device answered at the given address."""


class SMPRequestLost(SMPTransportTimeout):
    """The device answered a later request first, so this one was dropped (Zephyr answers in order)."""


class SMPUnreadableResponse(SMPTransportTimeout):
    """Bytes came back but none formed an SMP response (wrong baud rate, framing or transport)."""
