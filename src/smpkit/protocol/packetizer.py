"""Cut a byte stream (BLE notifications, raw UART) into whole SMP messages."""

from __future__ import annotations

from smpkit.protocol.errors import SMPProtocolError
from smpkit.protocol.header import HEADER_SIZE


class Packetizer:
    """Feed bytes in any split; get whole SMP messages out, several per feed if they came back to back.

    `max_message_size`, when given, rejects a header announcing a longer message:
    on a raw stream that means we lost our place, so the buffer is dropped and
    `SMPProtocolError` raised. Whole messages that came before the bad header in the
    same feed are returned first; the error is then raised by the next `feed()`.
    """

    __slots__ = ("_buffer", "max_message_size")

    def __init__(self, max_message_size: int | None = None) -> None:
        self._buffer = bytearray()
        self.max_message_size = max_message_size

    @property
    def pending(self) -> int:
        """Bytes held that do not yet form a whole message."""
        return len(self._buffer)

    @property
    def in_message(self) -> bool:
        return bool(self._buffer)

    def reset(self) -> None:
        self._buffer.clear()

    def feed(self, data: bytes | bytearray | memoryview) -> list[bytes]:
        buffer = self._buffer
        buffer += data
        messages: list[bytes] = []
        while len(buffer) >= HEADER_SIZE:
            size = HEADER_SIZE + ((buffer[2] << 8) | buffer[3])
            if self.max_message_size is not None and size > self.max_message_size:
                if messages:  # hand these out; the bad header stays first in the buffer
                    break
                buffer.clear()
                limit = self.max_message_size
                raise SMPProtocolError(f"header announces a {size}-byte message, over the {limit}-byte limit")
            if len(buffer) < size:
                break
            messages.append(bytes(buffer[:size]))
            del buffer[:size]
        return messages
