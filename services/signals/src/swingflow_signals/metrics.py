"""The signals service's own metrics (default registry, served with the shared ones)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

_LATENCY = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
_DAYS = (1, 10, 60, 600, 3_600, 6 * 3_600, 86_400, 2 * 86_400, 7 * 86_400, 30 * 86_400)

CANDIDATES = Counter(
    "swingflow_signals_candidates_evaluated",
    "Candidates judged, by verdict and the stage (or threshold) that rejected them.",
    ["verdict", "rejected_by"],
)
ALREADY_JUDGED = Counter(
    "swingflow_signals_already_judged",
    "Candidates received again after their verdict was stored (redelivered or republished).",
)
EVALUATION_SECONDS = Histogram(
    "swingflow_signals_evaluation_seconds",
    "Time the pure pipeline took on one candidate (stages 2-4 and integration).",
    buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05),
)
BATCH_SECONDS = Histogram(
    "swingflow_signals_batch_seconds",
    "Time for one batch of candidates: ML request, evaluation, storage and publishing.",
    buckets=_LATENCY,
)
EVENT_TO_CONFIRMED = Histogram(
    "swingflow_signals_event_to_confirmed_seconds",
    "From the candidate's ts_event (the scanner's stamp) to its ConfirmedSignal published.",
    buckets=_LATENCY,
)
BAR_TO_CONFIRMED = Histogram(
    "swingflow_signals_bar_to_confirmed_seconds",
    "From the bar's time (its open, UTC) to its ConfirmedSignal published; a replay of "
    "old bars lands in the top bucket.",
    buckets=_DAYS,
)
ML_REQUESTS = Counter(
    "swingflow_signals_ml_requests",
    "ml.predict requests, by outcome (answered, no_responders, timeout, refused, bad_reply, "
    "error); anything but answered leaves the ML stage neutral.",
    ["outcome"],
)
ML_SECONDS = Histogram(
    "swingflow_signals_ml_request_seconds", "Round trip of one ml.predict request.",
    buckets=_LATENCY,
)  # fmt: skip
WEIGHTS_UPDATES = Counter(
    "swingflow_signals_weights_updates",
    "config.weights.updated messages, by outcome (applied, invalid).",
    ["outcome"],
)
WEIGHT = Gauge("swingflow_signals_weight", "The integration weight in force, by stage.", ["stage"])
THRESHOLD = Gauge("swingflow_signals_confirm_threshold", "The confirm threshold in force.")
