"""Run a send coroutine eagerly: at once, in the caller, until it first has to wait.

A WebSocket send to a client whose socket buffer has room completes without ever
suspending (uvicorn writes the frame to the transport and returns). Run that way, a
fan-out to thousands of clients costs no task switch per client; only a send that must
wait (a slow client, the transport paused) is handed to a task that finishes it. This is
what Python 3.12's eager task factory does for whole tasks; the gateway runs on 3.11.

Measured in one run on this 2-core machine (5,000 in-process fake clients, 100 messages,
uvloop): a task woken per client per message cost 6.4 us a delivery.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

DONE = object()


def step(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run `coro` until it suspends; DONE when it finished, else what it waits on.

    An exception the coroutine raises propagates to the caller.
    """
    try:
        return coro.send(None)
    except StopIteration:
        return DONE


async def finish(coro: Coroutine[Any, Any, Any], waiting_on: Any) -> None:
    """Drive a coroutine that `step` left suspended to its end, as a Task would."""
    try:
        while True:
            if isinstance(waiting_on, asyncio.Future):
                waiting_on._asyncio_future_blocking = False  # what Task.__step does
                await asyncio.wait([waiting_on])  # done, without raising its error here
            else:  # a bare yield (asyncio.sleep(0)): just give the loop a turn
                await asyncio.sleep(0)
            try:
                waiting_on = coro.send(None)  # the coroutine reads the future's result
            except StopIteration:
                return
    except BaseException:
        coro.close()
        raise
