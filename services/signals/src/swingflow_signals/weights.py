"""The strategy in force, whose integration weights change without a restart.

At start the config file is read; the key `current` of the `weights` key-value bucket
holds the last `WeightsUpdated` that anyone published (the gateway and the optimizer put
it there when they publish), and it wins when it is newer than the file. After that each
`config.weights.updated` message is applied at once, validated exactly like the file
(`StrategyConfig.with_weights`): an invalid update raises `ConfigError` and the weights in
force stay as they were.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

from nats.js import JetStreamContext
from nats.js.errors import BucketNotFoundError, KeyNotFoundError
from pydantic import ValidationError

from swingflow_common import subjects
from swingflow_common.config import ConfigError, StrategyConfig, load_config
from swingflow_common.messages import WeightsUpdated
from swingflow_signals import metrics

log = logging.getLogger("swingflow.signals.weights")

WEIGHTS_KEY = "current"


def file_time(path: Path) -> datetime | None:
    """When the config file was last written (UTC), or None when there is none."""
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except OSError:
        return None


def read_config(path: Path) -> StrategyConfig:
    """The config at `path`; the defaults when the default file name does not exist."""
    if not path.exists() and path == Path("swing_config.json"):
        return StrategyConfig()
    return load_config(path)


def stored_is_newer(update: WeightsUpdated, file_written: datetime | None) -> bool:
    """Whether weights kept in the bucket supersede the file's."""
    return file_written is None or update.ts_event >= file_written


class Weights:
    """Holds the `StrategyConfig` every evaluation uses; `apply` swaps in new weights."""

    def __init__(self, config: StrategyConfig, source: str = "file") -> None:
        self.config = config
        self.source = source
        self._export()

    def apply(self, update: WeightsUpdated) -> StrategyConfig:
        """Use the update's weights (and threshold) from now on; ConfigError if invalid."""
        self.config = self.config.with_weights(
            {str(k): v for k, v in update.weights.items()}, update.confirm_threshold
        )
        self.source = update.source
        self._export()
        log.info(
            "weights applied",
            extra={"weights": self.config.weights.as_dict(), "source": update.source,
                   "threshold": self.config.confirm_threshold},
        )  # fmt: skip
        return self.config

    def _export(self) -> None:
        for name, value in self.config.weights.as_dict().items():
            metrics.WEIGHT.labels(name).set(value)
        metrics.THRESHOLD.set(self.config.confirm_threshold)


async def adopt_stored(
    js: JetStreamContext, weights: Weights, file_written: datetime | None
) -> bool:
    """Apply the bucket's `current` weights when they are newer than the file; True if so."""
    try:
        kv = await js.key_value(subjects.WEIGHTS_BUCKET)
        entry = await kv.get(WEIGHTS_KEY)
    except (BucketNotFoundError, KeyNotFoundError):
        return False
    if not entry.value:
        return False
    try:
        update = WeightsUpdated.model_validate_json(entry.value)
    except ValidationError as exc:
        log.warning("stored weights unreadable; keeping the file's", extra={"why": str(exc)})
        return False
    if not stored_is_newer(update, file_written):
        log.info("stored weights older than the config file; keeping the file's")
        return False
    try:
        weights.apply(update)
    except ConfigError as exc:
        log.warning("stored weights invalid; keeping the file's", extra={"why": str(exc)})
        return False
    return True
