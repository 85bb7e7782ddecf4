"""swingflow ml service."""
