"""The JSON of the Socket.IO wire: UTF-8 as is, and payloads encoded once however many receive them.

Given to the Socket.IO server as its `json` module (`launch.create_app`). Two differences from the
standard library's defaults, both about what every viewer receives:

* Text stays UTF-8 (``ensure_ascii=False``): "Xã Bình Thạnh" is 16 bytes on the wire, not the 31 of
  ``X\\u00e3 B\\u00ecnh Th\\u1ea1nh``. A string the UTF-8 codec refuses (a lone surrogate) falls
  back to the escaped form, so nothing can break a socket.
* An `Encoded` payload carries its own JSON text, made once: a snapshot sent to every viewer who
  joins or resyncs while its room's number stands is encoded once, not once per viewer (a room's
  deltas need nothing: python-socketio encodes a room emit once).
"""
from __future__ import annotations

import json
from typing import Any

_COMPACT = (",", ":")


class Encoded(dict):
    """A payload (a dict, as any other) that also holds its JSON text, encoded once."""

    __slots__ = ("text",)

    def __init__(self, value: dict[str, Any]) -> None:
        super().__init__(value)
        self.text = dumps(value)

    def __reduce__(self) -> tuple[Any, ...]:
        # Through the Redis message queue it travels as the dict it is (the text is made again there).
        return (Encoded, (dict(self),))


def dumps(obj: Any, **kwargs: Any) -> str:
    """JSON text of `obj` (compact, UTF-8 as is); an `Encoded` anywhere at the top level is reused."""
    if isinstance(obj, Encoded):
        return obj.text
    if isinstance(obj, list) and any(isinstance(item, Encoded) for item in obj):
        return "[" + ",".join(dumps(item) for item in obj) + "]"
    kwargs.setdefault("separators", _COMPACT)
    text = json.dumps(obj, ensure_ascii=False, **kwargs)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: the escaped form is valid UTF-8
        text = json.dumps(obj, **kwargs)
    return text


def loads(text: str | bytes, **kwargs: Any) -> Any:
    """The standard decoder."""
    return json.loads(text, **kwargs)
