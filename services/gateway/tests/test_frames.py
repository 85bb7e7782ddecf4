"""The shared server frame: the same bytes the websockets library encodes, at every size."""

from __future__ import annotations

import pytest
from websockets.frames import Frame as WsFrame
from websockets.frames import Opcode

from swingflow_gateway.ws.frames import Frame, encode_text


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 65_535, 65_536, 200_000])
def test_encode_text_matches_the_websockets_library(size: int) -> None:
    payload = b"x" * size
    expected = WsFrame(Opcode.TEXT, payload).serialize(mask=False, extensions=[])
    assert encode_text(payload) == expected


def test_a_frame_encodes_its_text_once_as_utf8() -> None:
    frame = Frame('{"channel":"signals","data":{"name":"Société"}}')
    wire = frame.wire
    assert wire is frame.wire  # built once, shared by every connection
    assert wire[2:].decode() == frame.text
