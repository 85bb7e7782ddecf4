"""A lease on a single-active role, held as a key in a JetStream key-value bucket.

The bucket's entries expire `ttl` seconds after their last write (the server's clock,
so clocks of the replicas do not matter). The holder creates the key (which fails
while it exists), rewrites it every `ttl / 3` seconds with the revision it last wrote
(which fails if anyone else wrote since), and deletes it on a clean stop. A standby
retries the create every `ttl / 3` seconds, so it takes over at most about `ttl`
seconds after a holder dies, and at once after a clean stop (it watches the key).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import uuid
from collections.abc import Callable
from contextlib import suppress

import nats.errors
from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig, StorageType
from nats.js.errors import BucketNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from swingflow_common import subjects

log = logging.getLogger("swingflow.lease")


def holder_id() -> str:
    """A name for this process that no other process shares."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


class Lease:
    """Leadership of `role`; `held` says whether this process holds it now."""

    def __init__(
        self, js: JetStreamContext, role: str, ttl: float, holder: str | None = None
    ) -> None:
        self.js = js
        self.role = role
        self.ttl = ttl
        self.holder = holder or holder_id()
        self.revision: int | None = None
        self._kv: KeyValue | None = None

    @property
    def held(self) -> bool:
        return self.revision is not None

    @property
    def every(self) -> float:
        return self.ttl / 3

    async def _bucket(self) -> KeyValue:
        if self._kv is None:
            try:
                self._kv = await self.js.key_value(subjects.LEADER_BUCKET)
            except BucketNotFoundError:
                config = KeyValueConfig(bucket=subjects.LEADER_BUCKET, history=1, ttl=self.ttl,
                                        storage=StorageType.FILE)  # fmt: skip
                self._kv = await self.js.create_key_value(config)
        return self._kv

    def _value(self) -> bytes:
        return json.dumps({"holder": self.holder}).encode()

    async def try_acquire(self) -> bool:
        """Take the role if nobody holds it; True when this process holds it."""
        kv = await self._bucket()
        try:
            self.revision = await kv.create(self.role, self._value())
        except KeyWrongLastSequenceError:
            return self.held
        log.info("lease acquired", extra={"role": self.role, "holder": self.holder})
        return True

    async def acquire(self) -> None:
        """Wait as a standby until the role is free, then take it.

        A watch on the key wakes the standby at once when the holder releases it; an
        entry that expires sends no event, so the standby also retries every `ttl / 3`.
        """
        kv = await self._bucket()
        watcher = await kv.watch(self.role)
        try:
            while not await self.try_acquire():
                with suppress(nats.errors.TimeoutError):
                    await watcher.updates(timeout=self.every)  # type: ignore[no-untyped-call]
        finally:
            await watcher.stop()  # type: ignore[no-untyped-call]

    async def renew(self) -> bool:
        """Rewrite the key; False (and not held any more) if someone else holds it now."""
        if self.revision is None:
            return False  # never held, or released: renewing must not take it back
        kv = await self._bucket()
        try:
            self.revision = await kv.update(self.role, self._value(), last=self.revision)
        except KeyWrongLastSequenceError:
            self.revision = None
            log.error("lease lost", extra={"role": self.role, "holder": self.holder})
            return False
        return True

    async def keep(self, on_lost: Callable[[], None]) -> None:
        """Renew until cancelled; call `on_lost` and return if the lease is lost."""
        while True:
            await asyncio.sleep(self.every)
            if not await self.renew():
                on_lost()
                return

    async def release(self) -> None:
        """Give the role up at once (a standby takes it on its next try)."""
        if self.revision is None:
            return
        kv = await self._bucket()
        with suppress(KeyWrongLastSequenceError):  # taken over already: nothing to give up
            await kv.delete(self.role, last=self.revision)
        self.revision = None
        log.info("lease released", extra={"role": self.role, "holder": self.holder})
