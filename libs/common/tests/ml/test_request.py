"""The API's training request: named data only, bounded overrides, defaults as the CLI's."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from swingflow_common.ml.request import DEFAULT_UNIVERSES, TrainOverrides, TrainRequest
from swingflow_common.ml.train import TrainParams


def test_an_empty_request_trains_the_cli_defaults_with_the_fixed_params() -> None:
    request = TrainRequest()
    assert request.universes == DEFAULT_UNIVERSES
    assert request.promote is True
    assert request.train_params() == TrainParams()


def test_overrides_change_only_the_fields_given() -> None:
    params = TrainOverrides(n_folds=3, learning_rate=0.1).apply()
    assert (params.n_folds, params.learning_rate) == (3, 0.1)
    assert params.n_estimators == TrainParams().n_estimators
    assert params.embargo_days == TrainParams().embargo_days


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"universes": ["/etc/passwd"]}, "universes"),
        ({"universes": []}, "universes"),
        ({"universes": ["synthetic:2x500", "synthetic:2x500"]}, "twice"),
        ({"start": "2020-02-01", "end": "2020-01-01"}, "after end"),
        ({"params": {"n_folds": 50}}, "n_folds"),
        ({"params": {"nthread": 64}}, "nthread"),
        ({"params": {"seed": False}}, "seed"),
        ({"params": {"learning_rate": True}}, "learning_rate"),
        ({"promote": "yes"}, "promote"),
        ({"start": 0}, "YYYY-MM-DD"),
        ({"path": "/tmp"}, "path"),
    ],
)
def test_a_request_outside_its_bounds_is_refused_naming_why(
    body: dict[str, object], words: str
) -> None:
    with pytest.raises(ValidationError, match=words):
        TrainRequest.model_validate(body)


def test_a_synthetic_universe_loads_without_reading_files() -> None:
    [dataset] = TrainRequest(universes=("synthetic:3x300:5",)).load_datasets()
    assert len(dataset.symbols) == 3
