"""swingflow scanner service."""
