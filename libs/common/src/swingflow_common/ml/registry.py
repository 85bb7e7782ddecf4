"""The model registry: model files with their sha256, rows in `ml_models`, promotion.

A model is saved as XGBoost JSON under the config's `ml_model_path` as
`<version>.json`; its row records the path, the file's sha256, the training window, the
feature names and the metrics (the headline out-of-sample figures under `summary`, the
whole report under `report`). Loading checks the file against the recorded hash and
refuses a mismatch (`ModelIntegrityError`), so a swapped or corrupted file never scores.

Promotion (`should_promote`) compares out-of-sample figures only:
- with no promoted model, the new one must beat the neutral stage (which answers 0.5 for
  every candidate, a Brier score of 0.25): out-of-sample Brier < 0.25;
- against a promoted model, it must also have a higher out-of-sample Brier skill score
  (1 - Brier / Brier of always answering the training win rate). The skill score is
  relative to each model's own data, so models trained on different windows compare.
At most one row is promoted; `promote` clears the others in the same transaction.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from nats.aio.client import Client
from sqlalchemy.ext.asyncio import AsyncSession

from swingflow_common import subjects
from swingflow_common.db.models import MlModelRow
from swingflow_common.messages import ModelUpdated
from swingflow_common.ml.model import ScoringModel

NEUTRAL_BRIER = 0.25  # the neutral stage answers 0.5 whatever the outcome


class ModelIntegrityError(ValueError):
    """A model file that does not match its recorded sha256 (or cannot be read)."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def new_version(now: datetime) -> str:
    """A version that sorts by time: m20240301T120000 (UTC, to the second)."""
    return f"m{now:%Y%m%dT%H%M%S}"


def save_model(model: ScoringModel, directory: Path) -> tuple[Path, str]:
    """Write the model as `<directory>/<version>.json`; its absolute path and sha256."""
    path = (directory / f"{model.version}.json").resolve()
    if path.exists():
        raise FileExistsError(f"{path} exists: a model version is written once")
    model.save(path)
    return path, sha256_of(path)


def load_verified(path: Path | str, sha256: str) -> ScoringModel:
    """The model at `path`, only if its bytes hash to `sha256`."""
    path = Path(path)
    if not path.is_file():
        raise ModelIntegrityError(f"model file {path} does not exist")
    actual = sha256_of(path)
    if actual != sha256:
        raise ModelIntegrityError(
            f"model file {path} has sha256 {actual}, but {sha256} was recorded: "
            "refusing to load a file that is not the trained model"
        )
    try:
        return ScoringModel.load(path)
    except (ValueError, KeyError) as exc:
        raise ModelIntegrityError(f"model file {path} is not a usable model: {exc}") from exc


def json_safe(value: Any) -> Any:
    """`value` with NaN and infinities as None (PostgreSQL's JSON refuses them)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def should_promote(
    new: Mapping[str, float], current: Mapping[str, float] | None
) -> tuple[bool, str]:
    """Whether a model with out-of-sample figures `new` replaces `current`, and why."""
    brier = new.get("oos_brier")
    if brier is None or not brier < NEUTRAL_BRIER:
        return False, f"out-of-sample Brier {brier} does not beat the neutral stage's 0.25"
    if current is None:
        return True, f"no promoted model; out-of-sample Brier {brier:.4f} < neutral 0.25"
    skill, held = new.get("oos_brier_skill"), current.get("oos_brier_skill")
    if skill is None:
        return False, "no out-of-sample Brier skill to compare"
    if held is not None and not skill > held:
        return False, f"out-of-sample Brier skill {skill:.4f} <= the promoted model's {held:.4f}"
    return True, f"out-of-sample Brier skill {skill:.4f} > the promoted model's {held}"


async def register(
    session: AsyncSession,
    model: ScoringModel,
    path: Path,
    sha256: str,
    metrics: Mapping[str, Any],
    window: tuple[datetime, datetime],
) -> MlModelRow:
    """Record a saved model (not promoted)."""
    row = MlModelRow(
        version=model.version, path=str(path), sha256=sha256, metrics=json_safe(metrics),
        features=list(model.names), train_start=window[0], train_end=window[1], promoted=False,
    )  # fmt: skip
    session.add(row)
    await session.flush()
    return row


async def promoted(session: AsyncSession) -> MlModelRow | None:
    """The promoted model's row, if any."""
    found = await session.scalars(sa.select(MlModelRow).where(MlModelRow.promoted.is_(True)))
    return found.first()


async def get_model(session: AsyncSession, version: str) -> MlModelRow | None:
    return await session.get(MlModelRow, version)


async def list_models(session: AsyncSession) -> list[MlModelRow]:
    """Every registered model, newest first."""
    rows = await session.scalars(
        sa.select(MlModelRow).order_by(MlModelRow.created_at.desc(), MlModelRow.version.desc())
    )
    return list(rows)


async def promote(session: AsyncSession, version: str) -> MlModelRow:
    """Make `version` the only promoted model; KeyError for an unknown version."""
    row = await session.get(MlModelRow, version)
    if row is None:
        raise KeyError(f"no model version {version!r}")
    await session.execute(
        sa.update(MlModelRow).where(MlModelRow.version != version).values(promoted=False)
    )
    row.promoted = True
    await session.flush()
    return row


def summary_of(row: MlModelRow) -> dict[str, float]:
    """The headline out-of-sample figures stored with a model."""
    summary = row.metrics.get("summary", {})
    return {k: float(v) for k, v in summary.items() if isinstance(v, int | float)}


def model_updated(row: MlModelRow) -> ModelUpdated:
    """The announcement of a promoted model."""
    return ModelUpdated(version=row.version, path=row.path, sha256=row.sha256,
                        metrics=summary_of(row))  # fmt: skip


async def announce(client: Client, update: ModelUpdated) -> None:
    """Publish `ml.models.updated` (core NATS), after the promotion was committed."""
    await client.publish(subjects.ML_MODELS_UPDATED, update.model_dump_json().encode())
    await client.flush()
