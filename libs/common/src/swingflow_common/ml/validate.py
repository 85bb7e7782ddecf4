"""`swingflow validate`: the pipeline without the ML stage (neutral) and with it, on the
same out-of-sample period, side by side (docs/ml.md, "Validation").

Stage 1 runs once: both arms judge the very same candidates (`backtest.engine.judge`)
and trade them on the same bars, costs, config and portfolio limits
(`engine.simulate_period`); the only difference is the scorer of stage 3 (None for the
neutral arm). Out-of-sample windows chain as in `backtest.walk_forward`: each starts flat
with the equity its arm ended the previous one with.

Two ways to keep the model out of sample:
- `validate_walk_forward`: rolling windows (`walk_forward.plan_windows`); per window a
  model is fitted (`fit`, default XGBoost with `ml.train.fit_model`, the recipe of the
  saved model of `swingflow train`) on the in-sample candidates whose trades closed by the
  window's last in-sample session, then the out-of-sample part is traded by both arms.
- `validate_model`: one given model, refused unless its training window ends before the
  period (`validation.check_out_of_sample`).

Labels come from `ml.labels` on the data cut at the period's end. A trade's label reads
only bars up to its exit, so keeping the labels whose exit is on or before a date gives
exactly the labels of the data cut at that date (a test checks it).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from swingflow_common.backtest.bars import BarIndex
from swingflow_common.backtest.engine import judge, resolve_symbols, sessions_of
from swingflow_common.backtest.walk_forward import plan_windows
from swingflow_common.config import StrategyConfig
from swingflow_common.data.dataset import Dataset, DateLike
from swingflow_common.messages import CandidateSignal, MlPredictReply, utcnow
from swingflow_common.ml.arms import Arm, assemble_arm
from swingflow_common.ml.compare import expectancy_difference, paired_windows, verdict
from swingflow_common.ml.labels import TradeLabel, label_candidates
from swingflow_common.ml.validation import (
    ModelInfo,
    ValidationReport,
    WindowComparison,
    check_out_of_sample,
)
from swingflow_common.pipeline import MlScorer
from swingflow_common.pipeline.history import candidates_over_history
from swingflow_common.progress import Progress, no_progress

IntArray = npt.NDArray[np.int64]
MIN_TRAINING_SAMPLES = 50
Pairs = Sequence[tuple[CandidateSignal, TradeLabel]]


@dataclass(frozen=True)
class Fitted:
    """A window's model as a scorer (None: too little data, the window runs neutral)."""

    scorer: MlScorer | None
    version: str | None
    note: str


WindowFit = Callable[[Pairs, StrategyConfig, int], Fitted]


def xgboost_fit(params: object | None = None, min_samples: int = MIN_TRAINING_SAMPLES) -> WindowFit:
    """Fit `ml.train.fit_model` (TrainParams `params`) on a window's labeled candidates."""
    from swingflow_common.ml.scorer import ModelScorer
    from swingflow_common.ml.train import TrainParams, fit_model, training_set

    # One thread: on a busy two-core machine XGBoost's second OpenMP thread made each
    # fit ~20x slower (measured), and the validation fits small windows one at a time.
    chosen = params if isinstance(params, TrainParams) else TrainParams(nthread=1)

    def fit(pairs: Pairs, config: StrategyConfig, index: int) -> Fitted:
        wins = sum(t.label for _, t in pairs)
        if len(pairs) < min_samples or wins in (0, len(pairs)):
            return Fitted(None, None, f"{len(pairs)} labeled candidates ({wins} won): too few "
                          f"to fit (need {min_samples} with both outcomes), neutral")  # fmt: skip
        data = training_set(pairs, config)
        model = fit_model(data, np.arange(len(data), dtype=np.int64), chosen)
        model.booster.set_param({"nthread": chosen.nthread})
        version = f"wf{index}"
        scorer = ModelScorer(dataclasses.replace(model, version=version), config)
        return Fitted(scorer, version, f"XGBoost on {len(pairs)} labeled candidates ({wins} won)")

    return fit


@dataclass(frozen=True)
class Period:
    """What both arms share: the data, config, symbols, sessions and stage-1 candidates."""

    dataset: Dataset
    config: StrategyConfig
    symbols: list[str]
    sessions: IntArray
    candidates: tuple[CandidateSignal, ...]
    at: IntArray  # each candidate's session (ns)

    def between(self, lo: int, hi: int) -> list[CandidateSignal]:
        return [
            c for c, ns in zip(self.candidates, self.at.tolist(), strict=True) if lo <= ns <= hi
        ]


@dataclass(frozen=True)
class OosWindow:
    index: int
    sessions: IntArray
    fitted: Fitted
    train: tuple[date, date] | None
    samples: int | None


def _day(ns: int) -> date:
    day: date = pd.Timestamp(ns, tz="UTC").date()
    return day


def _week(ts: datetime) -> str:
    """The ISO week a signal fell in: the bootstrap's cluster."""
    year, week, _ = ts.isocalendar()
    return f"{year}-W{week:02d}"


def _ns(ts: object) -> int:
    return int(pd.Timestamp(ts).as_unit("ns").value)  # type: ignore[arg-type]


def prepare(
    dataset: Dataset, config: StrategyConfig, symbols: Sequence[str] | None,
    start: DateLike | None, end: DateLike | None, progress: Progress,
) -> Period:  # fmt: skip
    """Stage 1 once over the period (earlier bars only warm the indicators up)."""
    wanted = resolve_symbols(dataset, symbols)
    sessions = sessions_of(dataset, wanted, start, end)
    progress("candidates", 0, 1)
    first, last = (pd.Timestamp(int(sessions[i]), tz="UTC") for i in (0, -1))
    found = tuple(candidates_over_history(dataset, config, wanted, first, last))
    progress("candidates", 1, 1)
    at = np.array([_ns(c.ts) for c in found], dtype=np.int64)
    return Period(dataset, config, wanted, sessions, found, at)


def label_period(
    period: Period, candidates: Sequence[CandidateSignal], progress: Progress
) -> dict[str, TradeLabel]:
    """The candidates' labels on the data cut at the period's last session."""
    cut = period.dataset.slice(None, pd.Timestamp(int(period.sessions[-1]), tz="UTC"))
    labels = label_candidates(candidates, cut, period.config, progress)
    return {t.signal_id: t for t in labels.labels}


class _Precomputed:
    """`scorer`'s answers for a window's candidates, asked once and handed out per session.

    A model scores each candidate from its own features, so one batch of the whole window
    gives the same predictions as one batch per session (the signals service's way), at a
    fraction of the cost. Each model probability is kept for the classification figures.
    """

    def __init__(
        self, scorer: MlScorer, candidates: Sequence[CandidateSignal], sink: dict[str, float]
    ) -> None:
        reply = scorer.predict(candidates)
        self.version = reply.model_version
        self.by_id = {p.signal_id: p for p in reply.predictions}
        sink.update({p.signal_id: p.probability for p in reply.predictions if not p.neutral})

    def predict(self, candidates: Sequence[CandidateSignal]) -> MlPredictReply:
        found = (self.by_id.get(c.id) for c in candidates)
        return MlPredictReply(
            model_version=self.version, predictions=tuple(p for p in found if p is not None)
        )


def classification(p: dict[str, float], labels: dict[str, TradeLabel]) -> dict[str, float | None]:
    """The model's out-of-sample probabilities against the labeled outcomes."""
    ids = [i for i in p if i in labels]
    if not ids:
        return {"n": 0.0}
    prob = np.array([p[i] for i in ids])
    y = np.array([labels[i].label for i in ids], dtype=np.float64)
    auc = None
    if 0 < y.sum() < len(y):
        from sklearn.metrics import roc_auc_score

        auc = float(roc_auc_score(y, prob))
    return {"n": float(len(ids)), "win_rate": float(y.mean()),
            "mean_probability": float(prob.mean()), "auc": auc,
            "brier": float(np.mean((prob - y) ** 2)),
            "brier_neutral": float(np.mean((0.5 - y) ** 2))}  # fmt: skip


def compare(
    period: Period,
    windows: Sequence[OosWindow],
    labels: dict[str, TradeLabel],
    *,
    mode: Literal["walk_forward", "model"],
    model: ModelInfo | None = None,
    options: dict[str, object] | None = None,
    n_boot: int = 2000,
    seed: int = 0,
    run_id: str | None = None,
    progress: Progress | None = None,
) -> ValidationReport:
    """Trade every window with both arms and compare them."""
    report = progress or no_progress
    opts = {"entry": "next_open", "slippage_atr": None, **(options or {})}
    entry, slip = opts["entry"], opts["slippage_atr"]
    bars = BarIndex(period.dataset)
    cash = period.config.risk.initial_cash
    neutral, ml = Arm(cash), Arm(cash)
    probabilities: dict[str, float] = {}
    rows = []
    for k, w in enumerate(windows):
        oos = period.between(int(w.sessions[0]), int(w.sessions[-1]))
        judged_n = judge(oos, period.config, None, report)
        scorer = w.fitted.scorer
        judged_m = judged_n if scorer is None else judge(
            oos, period.config, _Precomputed(scorer, oos, probabilities), report
        )  # fmt: skip
        args = (period.dataset, period.symbols, w.sessions)
        m_n = neutral.trade(*args, judged_n, period.config.risk, entry, slip, bars)  # type: ignore[arg-type]
        m_m = ml.trade(*args, judged_m, period.config.risk, entry, slip, bars)  # type: ignore[arg-type]
        rows.append(WindowComparison(
            index=w.index, train_start=w.train[0] if w.train else None,
            train_end=w.train[1] if w.train else None, oos_start=_day(int(w.sessions[0])),
            oos_end=_day(int(w.sessions[-1])), model=w.fitted.version, note=w.fitted.note,
            training_samples=w.samples, candidates=len(oos), confirmed_neutral=judged_n.confirmed,
            confirmed_ml=judged_m.confirmed, neutral=m_n, ml=m_m,
        ))  # fmt: skip
        report("windows", k + 1, len(windows))
    rid = run_id or _run_id(period, mode, opts)
    results = [
        assemble_arm(arm, name, f"{rid}-{name}", period.dataset, period.symbols, period.config,
                     {**opts, "arm": name})
        for arm, name in ((neutral, "neutral"), (ml, "ml"))
    ]  # fmt: skip
    returns = [[t.return_pct for t in r.trades] for r in results]
    weeks = [[_week(t.signal_ts) for t in r.trades] for r in results]
    expectancy = expectancy_difference(returns[0], returns[1], n_boot, seed, *weeks)
    paired = None
    if mode == "walk_forward":
        totals = [[r.neutral.get("total_return") or 0.0 for r in rows],
                  [r.ml.get("total_return") or 0.0 for r in rows]]  # fmt: skip
        paired = paired_windows(totals[0], totals[1], n_boot, seed)
    idle = sum(1 for w in windows if w.fitted.scorer is None)
    return ValidationReport(
        id=rid, created_at=utcnow(), mode=mode, dataset=period.dataset.name,
        symbols=tuple(period.symbols), start=results[0].start, end=results[0].end,
        options={**opts, "n_boot": n_boot, "seed": seed}, model=model, neutral=results[0],
        ml=results[1], windows=tuple(rows), expectancy=expectancy, paired=paired,
        classification=classification(probabilities, labels),
        verdict=verdict(expectancy, paired, idle, len(windows)),
    )  # fmt: skip


def _run_id(period: Period, mode: str, options: dict[str, object]) -> str:
    config = period.config.model_dump(mode="json")
    ends = [int(period.sessions[0]), int(period.sessions[-1])]
    inputs = [period.dataset.name, period.symbols, ends, mode, options, config]
    blob = json.dumps(inputs, sort_keys=True, default=str)
    return "val-" + hashlib.sha256(blob.encode()).hexdigest()[:12]


def validate_walk_forward(
    dataset: Dataset,
    config: StrategyConfig,
    *,
    in_sample_bars: int,
    out_of_sample_bars: int,
    symbols: Sequence[str] | None = None,
    start: DateLike | None = None,
    end: DateLike | None = None,
    fit: WindowFit | None = None,
    options: dict[str, object] | None = None,
    n_boot: int = 2000,
    seed: int = 0,
    run_id: str | None = None,
    progress: Progress | None = None,
) -> ValidationReport:
    """Per window: fit a model on the in-sample part, trade the out-of-sample part twice."""
    report = progress or no_progress
    period = prepare(dataset, config, symbols, start, end, report)
    plan = plan_windows(len(period.sessions), in_sample_bars, out_of_sample_bars,
                        out_of_sample_bars)  # fmt: skip
    labels = label_period(period, period.candidates, report)
    fitter = fit or xgboost_fit()
    windows = []
    for w in plan:
        report("train", w.index, len(plan))
        lo, hi = int(period.sessions[w.is_first]), int(period.sessions[w.is_last])
        pairs = [(c, labels[c.id]) for c in period.between(lo, hi)
                 if c.id in labels and _ns(labels[c.id].exit_ts) <= hi]  # fmt: skip
        sessions = period.sessions[w.oos_first : w.oos_last + 1]
        windows.append(OosWindow(w.index, sessions, fitter(pairs, config, w.index),
                                 (_day(lo), _day(hi)), len(pairs)))  # fmt: skip
    report("train", len(plan), len(plan))
    opts = {**(options or {}), "in_sample_bars": in_sample_bars,
            "out_of_sample_bars": out_of_sample_bars}  # fmt: skip
    return compare(period, windows, labels, mode="walk_forward", options=opts, n_boot=n_boot,
                   seed=seed, run_id=run_id, progress=report)  # fmt: skip


def validate_model(
    dataset: Dataset,
    config: StrategyConfig,
    scorer: MlScorer,
    info: ModelInfo,
    *,
    symbols: Sequence[str] | None = None,
    start: DateLike | None = None,
    end: DateLike | None = None,
    options: dict[str, object] | None = None,
    n_boot: int = 2000,
    seed: int = 0,
    run_id: str | None = None,
    progress: Progress | None = None,
) -> ValidationReport:
    """The given model against the neutral stage from `start` (default: the day after its
    training window) to `end`; `OverlapError` when the period starts inside that window."""
    report = progress or no_progress
    first = start if start is not None else info.train_end + timedelta(days=1)
    wanted = resolve_symbols(dataset, symbols)
    check_out_of_sample(info, _day(int(sessions_of(dataset, wanted, first, end)[0])))
    period = prepare(dataset, config, wanted, first, end, report)
    labels = label_period(period, period.candidates, report)
    fitted = Fitted(scorer, info.version, f"the given model {info.version}")
    window = OosWindow(0, period.sessions, fitted, (info.train_start, info.train_end), None)
    return compare(period, [window], labels, mode="model", model=info, options=options,
                   n_boot=n_boot, seed=seed, run_id=run_id, progress=report)  # fmt: skip
