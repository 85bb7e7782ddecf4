"""The backtester: the four-stage pipeline (or given entry/exit signals) over history,
with the same fill rules as paper trading, and the figures to judge it by."""
