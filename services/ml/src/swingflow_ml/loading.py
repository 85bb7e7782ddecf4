"""Finding and loading the model to answer with: the promoted one at start, the announced
one on `ml.models.updated`; both checked against their recorded sha256.

Loading reads and hashes a file, so it runs in a worker thread, off the event loop that
answers requests. Any failure leaves the scorer in place and says why.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from swingflow_common.config import StrategyConfig
from swingflow_common.messages import ModelUpdated
from swingflow_common.ml import registry
from swingflow_common.ml.scorer import ModelScorer

log = logging.getLogger("swingflow.ml")


async def load_model(
    version: str, path: str, sha256: str, config: StrategyConfig
) -> ModelScorer | str:
    """A scorer for the model file, or the reason it was refused."""
    try:
        model = await asyncio.to_thread(registry.load_verified, path, sha256)
    except registry.ModelIntegrityError as exc:
        return str(exc)
    if model.version != version:
        return f"model file {path} holds version {model.version!r}, not {version!r}"
    return ModelScorer(model, config)


async def load_announced(update: ModelUpdated, config: StrategyConfig) -> ModelScorer | str:
    return await load_model(update.version, update.path, update.sha256, config)


async def load_promoted(
    sessions: async_sessionmaker[AsyncSession], config: StrategyConfig
) -> ModelScorer | str:
    """A scorer for the promoted model in the registry, or why there is none."""
    try:
        async with sessions() as session:
            row = await registry.promoted(session)
    except SQLAlchemyError as exc:
        return f"model registry unreadable ({type(exc).__name__}): neutral"
    if row is None:
        return "no promoted model in the registry: neutral"
    return await load_model(row.version, row.path, row.sha256, config)
