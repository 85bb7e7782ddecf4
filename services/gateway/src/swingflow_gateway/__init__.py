"""swingflow gateway service."""
