"""Every message round-trips through JSON unchanged, and bad market data is refused."""

from __future__ import annotations

import base64
import json
import math
import re
import struct
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from swingflow_common import messages as m

TS = datetime(2024, 3, 1, tzinfo=UTC)
SNAPSHOT = Path(__file__).with_name("schemas.json")


def _stage(name: m.StageName, score: float = 0.7) -> m.StageScore:
    return m.StageScore(stage=name, score=score, minimum=0.3, passed=True, reason="ok")


def _candidate() -> m.CandidateSignal:
    return m.CandidateSignal(
        id=m.signal_id("AAPL", TS, "trend_pullback"),
        symbol="AAPL",
        ts=TS,
        setup="trend_pullback",
        close=179.66,
        atr=3.2,
        base=_stage("base_signal"),
        features={"rsi_14": 48.2, "sma_200": None},
    )


def _rows() -> m.FeatureRows:
    values = struct.pack("<4d", 48.2, float("nan"), 0.7, 1.0)
    return m.FeatureRows(
        signal_ids=(_candidate().id, "other"), names=("rsi_14", "stage_base"), values=values
    )


def examples() -> list[m.Message]:
    confirmed = m.ConfirmedSignal(
        id=_candidate().id,
        symbol="AAPL",
        ts=TS,
        setup="trend_pullback",
        entry=179.66,
        stop=173.26,
        target=189.26,
        stages=tuple(_stage(s) for s in m.STAGE_NAMES),
        weights={
            "base_signal": 0.3,
            "confirmation": 0.25,
            "ml_confidence": 0.25,
            "entry_timing": 0.2,
        },
        total=0.7,
        threshold=0.6,
        ml_contributions=(m.FeatureContribution(feature="rsi_14", value=48.2, contribution=0.12),),
        reason="all stages passed",
    )
    return [
        m.Bar(
            symbol="AAPL",
            ts=TS,
            open=179.55,
            high=180.53,
            low=177.38,
            close=179.66,
            volume=73_488_000,
        ),
        m.Tick(symbol="BRK.B", ts=TS, price=412.5, size=100),
        _candidate(),
        confirmed,
        m.Allocation(
            id="alloc-1",
            signal_id=confirmed.id,
            symbol="AAPL",
            ts=TS,
            quantity=156,
            price=179.66,
            stop=173.26,
            target=189.26,
            risk_amount=1000.0,
            weight=0.14,
            cash_after=71_973.0,
            reason="risk 1%",
        ),
        m.Fill(
            id="fill-1",
            allocation_id="alloc-1",
            symbol="AAPL",
            ts=TS,
            side="buy",
            quantity=156,
            price=179.75,
            commission=1.4,
            slippage=0.09,
        ),
        m.ModelUpdated(
            version="v1", path="var/models/v1.ubj", sha256="ab" * 32, metrics={"auc": 0.55}
        ),
        m.WeightsUpdated(weights=confirmed.weights, confirm_threshold=0.6),
        m.ScanJob(job_id="job-1", symbols=("AAPL", "MSFT")),
        m.MlPredictRequest(candidates=(_candidate(),)),
        m.MlPredictRequest(rows=_rows()),
        m.MlPredictReply(
            model_version=None,
            predictions=(m.MlPrediction(signal_id=confirmed.id, probability=0.5, neutral=True),),
        ),
        m.MlPredictReply(
            model_version="v1",
            rows=m.PredictionRows(
                signal_ids=(confirmed.id,),
                neutral=False,
                probabilities=(0.61,),
                features=("adx_14", "rsi_14"),
                top=((1, 0),),
                values=((48.2, None),),
                contributions=((0.12, -0.03),),
            ),
        ),
        m.DeadLetter(
            service="scanner", subject="md.bars.AAPL", reason="high below low", payload="{}"
        ),
        m.JobProgress(
            job_id="job-1", kind="backtest", stage="simulate", done=3, total=10, status="running"
        ),
    ]


@pytest.mark.parametrize("message", examples(), ids=lambda msg: type(msg).__name__)
def test_message_round_trips_through_json_unchanged(message: m.Message) -> None:
    decoded = m.decode(message.model_dump_json())
    assert decoded == message
    assert type(decoded) is type(message)


def test_every_routable_message_has_an_example() -> None:
    routable = {
        t
        for t in m.ALL_MESSAGES
        if t
        not in (
            m.StageScore,
            m.FeatureContribution,
            m.MlPrediction,
            m.FeatureRows,
            m.PredictionRows,
        )
    }
    assert routable == {type(x) for x in examples()}


def test_feature_rows_travel_as_base64_and_keep_every_bit() -> None:
    rows = _rows()
    raw = rows.model_dump_json()
    assert '"values":"' in raw  # base64url text, not a list of numbers
    again = m.FeatureRows.model_validate_json(raw)
    assert again.values == rows.values
    standard = base64.b64encode(rows.values).decode()  # the standard alphabet is accepted
    assert (
        m.FeatureRows.model_validate_json(
            raw.replace(raw.split('"values":"')[1].split('"')[0], standard)
        )
        == rows
    )


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"values": b"\0" * 24}, "values hold 24 bytes; 2 rows of 2 float64 need 32"),
        ({"names": ("rsi_14", "rsi_14")}, "feature names must not repeat"),
        ({"signal_ids": ("one",)}, "1 rows of 2 float64 need 16"),
    ],
)
def test_feature_rows_of_the_wrong_shape_are_refused(change: dict[str, Any], reason: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(reason)):
        m.FeatureRows(**{**_rows().model_dump(exclude={"type", "schema_version"}), **change})


def test_feature_rows_that_are_not_base64_are_refused() -> None:
    raw = _rows().model_dump_json()
    broken = raw.replace('"values":"', '"values":"*', 1)
    with pytest.raises(ValidationError, match="values"):
        m.FeatureRows.model_validate_json(broken)


def test_a_predict_request_has_candidates_or_rows_not_both() -> None:
    with pytest.raises(ValidationError, match="not both"):
        m.MlPredictRequest(candidates=(_candidate(),), rows=_rows())
    with pytest.raises(ValidationError, match="candidates or rows: field required"):
        m.MlPredictRequest.model_validate_json('{"type": "ml_predict_request"}')
    assert m.MlPredictRequest(rows=_rows()).signal_ids == (_candidate().id, "other")
    assert m.MlPredictRequest(candidates=()).size == 0


def test_prediction_rows_must_line_up() -> None:
    good = {"signal_ids": ("a", "b"), "neutral": False, "probabilities": (0.4, 0.6),
            "features": ("f", "g"), "top": ((0,), (1,)), "values": ((1.0,), (None,)),
            "contributions": ((0.1,), (-0.2,))}  # fmt: skip
    rows = m.PredictionRows(**good)
    assert [p.contributions[0].feature for p in rows.predictions()] == ["f", "g"]
    assert rows.predictions()[1].contributions[0].value is None
    for change, reason in [
        ({"probabilities": (0.4,)}, "1 probabilities for 2 signals"),
        ({"top": ((0,),)}, "a row per signal (2)"),
        ({"top": ((0,), (2,))}, "a top index beyond the 2 features"),
        ({"values": ((1.0,), (None, 2.0))}, "differ in length"),
        ({"probabilities": (0.4, 1.5)}, "less than or equal to 1"),
    ]:
        with pytest.raises(ValidationError, match=re.escape(reason)):
            m.PredictionRows(**{**good, **change})
    neutral = m.PredictionRows(signal_ids=("a",), neutral=True, probabilities=(0.5,))
    assert neutral.predictions() == (m.MlPrediction(signal_id="a", probability=0.5, neutral=True),)
    with pytest.raises(ValidationError, match="predictions or rows, not both"):
        m.MlPredictReply(model_version=None, rows=neutral, predictions=neutral.predictions())


def test_design_bar_example_parses() -> None:
    raw = (
        '{"type": "bar", "schema_version": 1, "symbol": "AAPL", "interval": "1d",'
        ' "ts": "2024-03-01T00:00:00Z", "open": 179.55, "high": 180.53, "low": 177.38,'
        ' "close": 179.66, "volume": 73488000}'
    )
    bar = m.decode(raw)
    assert isinstance(bar, m.Bar)
    assert bar.ts == TS
    assert bar.volume == 73_488_000


def test_signal_id_is_deterministic_and_readable() -> None:
    a = m.signal_id("AAPL", TS, "breakout_volume")
    assert a == m.signal_id("AAPL", TS.replace(hour=0), "breakout_volume")
    assert a == "AAPL-20240301-breakout_volume"
    assert a != m.signal_id("AAPL", TS, "trend_pullback")


BAD_BARS = {
    "missing field": {"close": None},
    "high below low": {"high": 170.0, "low": 175.0},
    "close above high": {"close": 190.0},
    "negative volume": {"volume": -1},
    "nan price": {"open": math.nan},
    "infinite price": {"close": math.inf},
    "absurd price": {"open": 1e12, "high": 1e12},
    "unknown interval": {"interval": "7d"},
    "lower-case symbol": {"symbol": "aapl"},
    "symbol with a space": {"symbol": "AA PL"},
    "naive time": {"ts": "2024-03-01T00:00:00"},
    "wrong type": {"volume": "lots"},
    "unknown field": {"exchange": "XNAS"},
}


@pytest.mark.parametrize("change", BAD_BARS.values(), ids=list(BAD_BARS))
def test_bad_bar_is_refused_with_a_reason(change: dict[str, object]) -> None:
    good = json.loads(examples()[0].model_dump_json())
    bad = {**good, **change}
    bad = {k: v for k, v in bad.items() if v is not None}
    with pytest.raises(ValidationError) as err:
        m.decode(json.dumps(bad, allow_nan=True))
    assert str(err.value)


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity"])
@pytest.mark.parametrize("field", ["open", "high", "low", "close", "volume"])
def test_a_non_finite_price_or_volume_is_refused_by_name(field: str, value: str) -> None:
    """NaN and infinities are refused as such, whatever the range check would say."""
    good = json.loads(examples()[0].model_dump_json())
    raw = json.dumps({**good, field: 1234.5}).replace("1234.5", value)
    with pytest.raises(ValidationError) as err:
        m.decode(raw)
    assert [(e["loc"], e["msg"]) for e in err.value.errors()] == [
        (("bar", field), "Input should be a finite number")
    ]


def test_a_bad_symbol_is_refused_in_plain_words() -> None:
    good = json.loads(examples()[0].model_dump_json())
    with pytest.raises(ValidationError) as err:
        m.decode(json.dumps({**good, "symbol": "aa pl"}))
    assert "symbol 'aa pl' must be 1-16 upper-case letters, digits" in str(err.value)


def test_json_schemas_match_the_snapshot() -> None:
    """A change to a message's schema must be deliberate: update schemas.json with it
    (run this file with SWINGFLOW_UPDATE_SCHEMAS=1) and bump schema_version if it breaks."""
    import os

    current = {t.__name__: t.model_json_schema() for t in m.ALL_MESSAGES}
    if os.environ.get("SWINGFLOW_UPDATE_SCHEMAS") == "1" or not SNAPSHOT.exists():
        SNAPSHOT.write_text(json.dumps(current, indent=1, sort_keys=True) + "\n")
    assert json.loads(SNAPSHOT.read_text()) == current
