from __future__ import annotations

from collections.abc import Sequence

from swingflow_common.config import StrategyConfig
from swingflow_common.messages import (
    CandidateSignal,
    FeatureContribution,
    MlPrediction,
    MlPredictReply,
)
from swingflow_common.pipeline.ml_stage import (
    NEUTRAL_REASON,
    MlScorer,
    ml_stage,
    neutral_ml_stage,
    score_batch,
)

from .factories import candidate

CONFIG = StrategyConfig()


class FixedScorer:
    """A hand-written scorer: a fixed probability per symbol; symbols it lacks are skipped."""

    def __init__(self, by_symbol: dict[str, float]) -> None:
        self.by_symbol = by_symbol
        self.calls = 0

    def predict(self, candidates: Sequence[CandidateSignal]) -> MlPredictReply:
        self.calls += 1
        preds = tuple(
            MlPrediction(
                signal_id=c.id,
                probability=self.by_symbol[c.symbol],
                neutral=False,
                contributions=(
                    FeatureContribution(feature="rsi_14", value=45.0, contribution=0.3),
                    FeatureContribution(feature="adx_14", value=20.0, contribution=-0.1),
                ),
            )
            for c in candidates
            if c.symbol in self.by_symbol
        )
        return MlPredictReply(model_version="m-test", predictions=preds)


def test_neutral_ml_stage_says_no_model() -> None:
    stage = neutral_ml_stage()
    assert (stage.stage, stage.score, stage.passed, stage.neutral) == (
        "ml_confidence",
        0.5,
        True,
        True,
    )
    assert stage.reason == NEUTRAL_REASON == "no model loaded: neutral"


def test_score_batch_without_scorer_is_neutral_for_every_candidate() -> None:
    outcomes = score_batch([candidate(symbol="AAPL"), candidate(symbol="MSFT")], None, CONFIG)
    assert [o.stage.neutral for o in outcomes] == [True, True]
    assert all(o.model_version is None for o in outcomes)


def test_score_batch_calls_the_scorer_once_and_matches_by_id() -> None:
    scorer = FixedScorer({"AAPL": 0.71, "MSFT": 0.33})
    _: MlScorer = scorer
    cands = [candidate(symbol="MSFT"), candidate(symbol="AAPL"), candidate(symbol="IBM")]
    outcomes = score_batch(cands, scorer, CONFIG)
    assert scorer.calls == 1
    assert [o.stage.score for o in outcomes] == [0.33, 0.71, 0.5]
    assert [o.stage.neutral for o in outcomes] == [False, False, True]
    assert outcomes[0].model_version == "m-test"
    assert outcomes[0].contributions[0].feature == "rsi_14"
    assert "rsi_14 +0.30" in outcomes[0].stage.reason


def test_ml_stage_below_minimum_fails() -> None:
    strict = StrategyConfig.model_validate({"stage_minimums": {"ml_confidence": 0.55}})
    pred = MlPrediction(signal_id="x", probability=0.4, neutral=False)
    stage = ml_stage(pred, "m1", strict)
    assert not stage.passed
    assert stage.minimum == 0.55
    assert "below minimum 0.55" in stage.reason
