"""An outgoing text frame, encoded once for every client that gets it.

A server's WebSocket frames are not masked (RFC 6455, section 5.1), so the bytes of one
frame are the same on every connection: the hub builds a `Frame` once per message and
each connection writes `frame.wire` to its socket as it is. The header is written here
rather than by the websockets library because it is three lines of section 5.2 on the
hottest path (one frame object per message, not one per client); the tests check it
against the library's own encoder.
"""

from __future__ import annotations

import struct

_FIN_TEXT = 0x81  # FIN bit set, opcode 0x1 (text)


def encode_text(payload: bytes) -> bytes:
    """One unmasked, unfragmented text frame carrying `payload` (UTF-8)."""
    size = len(payload)
    if size < 126:
        header = bytes((_FIN_TEXT, size))
    elif size < 1 << 16:
        header = struct.pack("!BBH", _FIN_TEXT, 126, size)
    else:
        header = struct.pack("!BBQ", _FIN_TEXT, 127, size)
    return header + payload


class Frame:
    """A frame's text (for the ASGI send path) and its bytes on the wire.

    Compared and hashed by identity: a connection's batch of frames is a dict key (see
    `Connection.flush`).
    """

    __slots__ = ("text", "wire")

    def __init__(self, text: str) -> None:
        self.text = text
        self.wire = encode_text(text.encode())

    def __repr__(self) -> str:
        return f"Frame({self.text[:60]!r})"
