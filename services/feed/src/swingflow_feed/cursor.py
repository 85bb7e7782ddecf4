"""The replay cursor: the last day fully published, per dataset, in a JetStream KV bucket.

A second run continues after it. Republishing a partly published day is harmless (each
Bar carries its `Nats-Msg-Id`, and a consumer ignores a bar it already has), but only the
cursor makes resuming correct once the stream's duplicate window has passed.
"""

from __future__ import annotations

import contextlib
import re
from datetime import datetime

from nats.js import JetStreamContext
from nats.js.errors import KeyNotFoundError
from nats.js.kv import KeyValue

from swingflow_common import subjects

_BAD_KEY_CHARS = re.compile(r"[^-_=.a-zA-Z0-9]")


def cursor_key(source: str) -> str:
    """A valid KV key for a dataset source (a name, a folder path, a synthetic spec)."""
    key = _BAD_KEY_CHARS.sub("_", source.strip()).strip(".")
    return key or "_"


class Cursor:
    """Read and move one dataset's cursor (an ISO date in the `feed` bucket)."""

    def __init__(self, kv: KeyValue, source: str) -> None:
        self.kv = kv
        self.key = cursor_key(source)

    @classmethod
    async def open(cls, js: JetStreamContext, source: str) -> Cursor:
        return cls(await js.key_value(subjects.FEED_BUCKET), source)

    async def load(self) -> datetime | None:
        """The last day fully published, or None when the replay has not started."""
        try:
            entry = await self.kv.get(self.key)
        except KeyNotFoundError:
            return None
        if not entry.value:
            return None
        return datetime.fromisoformat(entry.value.decode())

    async def save(self, day: datetime) -> None:
        await self.kv.put(self.key, day.isoformat().encode())

    async def reset(self) -> None:
        """Forget the cursor: the next run starts from the first day."""
        with contextlib.suppress(KeyNotFoundError):
            await self.kv.delete(self.key)
