"""The built dashboard (`web/dist`) at `/`, with the single-page-app fallback.

A path that names a file in `dist/` gets that file (hashed assets are cached for a
year); any other path outside `/api` and `/ws` gets `index.html`, so the Vue router can
show `/symbol/AAPL` after a reload. Without a build, every such path gets a short page
that says how to build it, rather than a bare 404.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException, status
from fastapi.responses import FileResponse, HTMLResponse, Response

RESERVED = ("api", "ws")
PLACEHOLDER = """<!doctype html><html><head><meta charset="utf-8"><title>swingflow</title>
<style>body{font-family:sans-serif;margin:3em;max-width:40em}</style></head><body>
<h1>swingflow gateway</h1>
<p><strong>dashboard not built; run make setup</strong> (it builds
<code>services/gateway/web/dist</code>, or set <code>GATEWAY_STATIC_DIR</code>).</p>
<p>The API works meanwhile: <a href="/docs">/docs</a> (OpenAPI),
<a href="/asyncapi">/asyncapi</a> (NATS events), <a href="/readyz">/readyz</a>.</p>
</body></html>"""
IMMUTABLE = {"Cache-Control": "public, max-age=31536000, immutable"}
NO_CACHE = {"Cache-Control": "no-cache"}


def _inside(root: Path, path: str) -> Path | None:
    """The file `path` names under `root`, or None (missing, a folder, or outside root)."""
    try:
        candidate = (root / path).resolve()
    except (OSError, ValueError):
        return None
    if candidate.is_relative_to(root) and candidate.is_file():
        return candidate
    return None


def build_router(static_dir: Path) -> APIRouter:
    """The catch-all route; include it last so every API route matches first."""
    router = APIRouter(include_in_schema=False)
    root = static_dir.resolve()
    index = root / "index.html"

    @router.get("/{path:path}")
    async def dashboard(path: str) -> Response:
        first = path.split("/", 1)[0]
        if first in RESERVED:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "Not Found")
        if not index.is_file():
            return HTMLResponse(PLACEHOLDER, headers=NO_CACHE)
        found = _inside(root, path) if path else None
        if found is not None:
            headers = IMMUTABLE if first == "assets" else NO_CACHE
            return FileResponse(found, headers=headers)
        return FileResponse(index, headers=NO_CACHE)

    return router
