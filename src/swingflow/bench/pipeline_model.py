"""The ML stage in the pipeline benchmark: a model trained on the history, then recorded
and announced while the services run, as `swingflow train` does.

The latency budget was first measured with the ML stage neutral. With a model loaded the
signals service computes each batch's feature rows and asks the ml service, which scores
them with XGBoost: this phase measures the same latency with that work in it. The model
is trained on the candidates and real labels (`ml.labels`, the paper-trading fill rules)
of the first `TRAIN_SYMBOLS` symbols over the history sessions only, with the project's
default tree sizes; its quality does not matter here, its cost does.
"""

from __future__ import annotations

from datetime import datetime

from nats.aio.client import Client

from swingflow_common.config import StrategyConfig
from swingflow_common.data import Dataset
from swingflow_common.db import engine_from_url, session_factory
from swingflow_common.messages import utcnow
from swingflow_common.ml import job, registry
from swingflow_common.ml.labels import label_candidates
from swingflow_common.ml.train import TrainingResult, TrainParams, train, training_set
from swingflow_common.pipeline.history import candidates_over_history

TRAIN_SYMBOLS = 60


def history_model(data: Dataset, config: StrategyConfig, last_day: datetime) -> TrainingResult:
    """A model of the default size, trained on the history sessions of a few symbols."""
    history = data.slice(end=last_day)
    symbols = sorted(history.bars)[:TRAIN_SYMBOLS]
    candidates = candidates_over_history(history, config, symbols)
    labelled = {t.signal_id: t for t in label_candidates(candidates, history, config).labels}
    pairs = [(c, labelled[c.id]) for c in candidates if c.id in labelled]
    return train(training_set(pairs, config), TrainParams(n_folds=2, n_bootstrap=20))


async def promote(
    trained: TrainingResult, config: StrategyConfig, database_url: str, nc: Client
) -> str:
    """Record the model in the platform's registry as `swingflow train` does, promote it
    by hand as an operator can through the gateway (on synthetic data it need not beat
    the neutral stage: its cost is measured, not its skill), and announce it on
    `ml.models.updated`: the ml service loads it, the signals service asks it. Its
    version."""
    engine = engine_from_url(database_url)
    sessions = session_factory(engine)
    try:
        recorded = await job.record(trained, config, sessions, utcnow(), allow_promotion=False)
        async with sessions.begin() as session:
            update = registry.model_updated(await registry.promote(session, recorded.version))
    finally:
        await engine.dispose()
    await registry.announce(nc, update)
    return recorded.version
