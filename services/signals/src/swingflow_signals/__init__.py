"""swingflow signals service."""
