"""swingflow feed service."""
