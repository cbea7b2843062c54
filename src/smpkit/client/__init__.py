"""The asyncio SMP client: dispatcher, adaptive window, retries and per-group facades."""

from smpkit.client.client import SMPClient
from smpkit.client.dispatcher import Dispatcher, DispatcherStats
from smpkit.client.retry import RetryPolicy, is_retriable
from smpkit.client.window import Window
from smpkit.transport.errors import (
    SMPClientException,
    SMPRequestLost,
    SMPTransportDisconnected,
    SMPTransportTimeout,
    SMPUnreadableResponse,
)

__all__ = [
    "Dispatcher",
    "DispatcherStats",
    "RetryPolicy",
    "SMPClient",
    "SMPClientException",
    "SMPRequestLost",
    "SMPTransportDisconnected",
    "SMPTransportTimeout",
    "SMPUnreadableResponse",
    "Window",
    "is_retriable",
]
