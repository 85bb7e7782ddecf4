"""Stage 3's model: labels from the fill rules, features known at the signal's bar,
purged walk-forward training of XGBoost, calibrated probabilities and a model registry.

Import the submodules (`ml.labels`, `ml.features`, `ml.cv`, `ml.train`, `ml.model`,
`ml.registry`) directly: `ml.train` and `ml.model` load XGBoost, which a service that
only runs the other stages does not need.
"""
