"""Container health check: `python healthcheck.py URL [TEXT]` exits 0 when URL answers 2xx
(and its body contains TEXT, when given), 1 otherwise. Standard library only.

    python /app/healthcheck.py http://127.0.0.1:8000/readyz
    python /app/healthcheck.py http://127.0.0.1:9100/metrics \
        'swingflow_service_ready{service="scanner"} 1.0'
"""

from __future__ import annotations

import sys
import urllib.request


def healthy(url: str, text: str | None = None, timeout: float = 3.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            body = response.read().decode("utf-8", "replace")
    except OSError:  # refused, timed out, or an HTTP error status
        return False
    return text is None or text in body


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: healthcheck.py URL [TEXT]")
    sys.exit(0 if healthy(sys.argv[1], sys.argv[2] if len(sys.argv) == 3 else None) else 1)
