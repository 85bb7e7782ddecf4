"""One router per resource; `app.py` includes them all."""

from swingflow_gateway.schemas import ErrorOut

ERRORS: dict[int | str, dict[str, object]] = {
    422: {"model": ErrorOut, "description": "A parameter or the body is not valid."},
}
NOT_FOUND: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorOut, "description": "No such symbol."},
}
