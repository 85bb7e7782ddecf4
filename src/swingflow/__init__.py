"""swingflow command line and local orchestration."""
