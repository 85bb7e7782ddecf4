"""swingflow portfolio service."""
