"""The ml service's own metrics (on the default registry, served with the shared ones)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

REQUESTS = Counter(
    "swingflow_ml_requests",
    "ml.predict requests answered, by outcome (answered; error for a malformed request; "
    "failed when scoring it failed).",
    ["outcome"],
)
PREDICTIONS = Counter(
    "swingflow_ml_predictions",
    "Candidates scored, by whether the prediction was neutral (no model).",
    ["neutral"],
)
PREDICT_SECONDS = Histogram(
    "swingflow_ml_predict_seconds",
    "Time to decode, score and encode one ml.predict request, from the start of the batch "
    "it was scored in to its reply.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
)
BATCH_REQUESTS = Histogram(
    "swingflow_ml_batch_requests",
    "ml.predict requests scored together (those waiting when a batch is taken).",
    buckets=(1, 2, 4, 8, 16, 32),
)
MODEL_LOADED = Gauge("swingflow_ml_model_loaded", "1 when a trained model answers, 0 when neutral.")
MODEL_UPDATES = Counter(
    "swingflow_ml_model_updates", "ml.models.updated announcements received.", ["outcome"]
)
