"""docker's ``filters`` query parameter, for every list, prune and events
call: JSON, ``{"key": {"value": true}}`` or the older ``{"key": ["value"]}``,
decoded to ``{key: [value, ...]}``; keys a call does not know are refused
with docker's words."""
from __future__ import annotations

import json
from collections.abc import Iterable

from .http import HTTPError


def parse_filters(text: str | None, accepted: Iterable[str] | None = None) -> dict[str, list[str]]:
    """``accepted``: the keys the call knows (None: the caller checks them)."""
    if not text:
        return {}
    try:
        raw = json.loads(text)
    except ValueError as error:
        raise HTTPError(400, f"invalid filter: {error}") from None
    if not isinstance(raw, dict):
        raise HTTPError(400, "invalid filter: not a JSON object")
    known = None if accepted is None else set(accepted)
    filters = {}
    for key, values in raw.items():
        if known is not None and key not in known:
            raise HTTPError(400, f"invalid filter '{key}'")
        if isinstance(values, dict):
            filters[key] = [value for value, on in values.items() if on]
        elif isinstance(values, list) and all(isinstance(v, str) for v in values):
            filters[key] = list(values)
        else:
            raise HTTPError(400, f"invalid filter '{key}': its values must be strings")
    return filters


def bool_filter(filters: dict[str, list[str]], key: str, default: bool) -> bool:
    """moby's GetBoolOrDefault."""
    if key not in filters:
        return default
    values = set(filters[key])
    true, false = bool(values & {"1", "true"}), bool(values & {"0", "false"})
    if true == false:
        raise HTTPError(400, f"invalid filter '{key}=[{' '.join(filters[key])}]'")
    return true


def label_matches(labels: dict, selector: str) -> bool:
    """``key`` or ``key=value`` against a label map."""
    key, eq, value = selector.partition("=")
    return key in labels and (not eq or labels[key] == value)
