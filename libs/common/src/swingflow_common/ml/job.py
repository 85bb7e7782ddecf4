"""A whole training job, for the CLI (and later the API): datasets in, a registered model
(promoted when it earns it) and its reports out.

`train_datasets` labels every candidate of each dataset and trains; `record` writes the
model file and its JSON and HTML reports under `ml_model_path`, registers it, and
promotes it when `should_promote` agrees, all in one transaction. Announcing the
promotion on NATS is the caller's last step, after the commit.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from swingflow_common.config import StrategyConfig
from swingflow_common.data.dataset import Dataset, DateLike
from swingflow_common.messages import CandidateSignal, ModelUpdated
from swingflow_common.ml import registry
from swingflow_common.ml.history import LabeledHistory, labeled_history
from swingflow_common.ml.labels import TradeLabel
from swingflow_common.ml.report import to_html
from swingflow_common.ml.train import TrainingResult, TrainParams, train, training_set
from swingflow_common.progress import Progress


@dataclass(frozen=True)
class Trained:
    histories: tuple[LabeledHistory, ...]
    result: TrainingResult


def train_datasets(
    datasets: Sequence[Dataset],
    config: StrategyConfig,
    start: DateLike | None = None,
    end: DateLike | None = None,
    params: TrainParams | None = None,
    progress: Progress | None = None,
) -> Trained:
    """Label every candidate of `datasets` (a signal id seen twice counts once) and train."""
    histories = [labeled_history(d, config, start, end, progress) for d in datasets]
    pairs: list[tuple[CandidateSignal, TradeLabel]] = []
    seen: set[str] = set()
    for history in histories:
        for candidate, label in history.pairs:
            if candidate.id not in seen:
                seen.add(candidate.id)
                pairs.append((candidate, label))
    if len(pairs) < 50:
        raise ValueError(f"{len(pairs)} labeled candidates: too few to train on (need 50)")
    data = training_set(pairs, config)
    result = train(data, params or TrainParams(), progress)
    result.report["datasets"] = [
        {"name": h.dataset, "candidates": h.candidates, "labeled": len(h.pairs),
         "skipped": h.skipped} for h in histories
    ]  # fmt: skip
    return Trained(tuple(histories), result)


@dataclass(frozen=True)
class Recorded:
    version: str
    model_path: Path
    sha256: str
    report_json: Path
    report_html: Path
    promoted: bool
    reason: str
    update: ModelUpdated | None  # to announce when promoted


async def record(
    result: TrainingResult,
    config: StrategyConfig,
    sessions: async_sessionmaker[AsyncSession],
    now: datetime,
    allow_promotion: bool = True,
) -> Recorded:
    """Save, register and (if it beats the promoted model out of sample) promote."""
    version = registry.new_version(now)
    model = dataclasses.replace(result.model, version=version)
    directory = Path(config.ml_model_path)
    path, sha = registry.save_model(model, directory)
    async with sessions.begin() as session:
        current = await registry.promoted(session)
        held = None if current is None else registry.summary_of(current)
        promote, reason = registry.should_promote(result.summary, held)
        if not allow_promotion:
            promote, reason = False, f"--no-promote (would promote: {promote}; {reason})"
        previous = None if current is None else current.version
        promotion = {"promoted": promote, "reason": reason, "previous": previous}
        report = {**result.report, "version": version, "sha256": sha, "promotion": promotion}
        json_path = path.with_suffix(".report.json")
        html_path = path.with_suffix(".report.html")
        json_path.write_text(json.dumps(registry.json_safe(report), indent=1) + "\n")
        html_path.write_text(to_html(report, f"swingflow model {version}"))
        window = (
            datetime.fromisoformat(report["window"]["start"]).replace(tzinfo=now.tzinfo),
            datetime.fromisoformat(report["window"]["end"]).replace(tzinfo=now.tzinfo),
        )
        metrics = {"summary": result.summary, "report": report}
        row = await registry.register(session, model, path, sha, metrics, window)
        if promote:
            row = await registry.promote(session, version)
        update = registry.model_updated(row) if promote else None
    return Recorded(version, path, sha, json_path, html_path, promote, reason, update)
