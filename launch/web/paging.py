"""Paging a list computed in Python (not a query), shaped like Flask-SQLAlchemy's pagination for the macro."""
from __future__ import annotations

import math

from flask import request


class ListPage:
    """A page of an already computed list, shaped like Flask-SQLAlchemy's pagination for the macro."""

    def __init__(self, items: list, page: int, per_page: int) -> None:
        self.total = len(items)
        self.pages = max(1, math.ceil(self.total / per_page))
        self.page = min(max(1, page), self.pages)
        self.items = items[(self.page - 1) * per_page: self.page * per_page]
        self.has_prev, self.has_next = self.page > 1, self.page < self.pages
        self.prev_num, self.next_num = self.page - 1, self.page + 1


def page_arg() -> int:
    """?page= as a number (1 when missing or unreadable)."""
    return request.args.get("page", 1, type=int) or 1
