"""Every page in Vietnamese: no English word outside data.

The walk opens every GET page of the app (the access matrix's concrete URLs, so a new page is walked
as soon as it is classified there) as the operator, the viewer and a host, in Vietnamese, after a
morning's worth of activity (state changes, point edits, failed and skipped notices, accounts).
It reads what a person sees: the text, the tooltips, placeholders and labels, the confirmation
questions and the wall's JSON labels.

"English" means a word of the catalogue's English source strings that none of its Vietnamese
translations uses (so "IOC", "QR", "API", "CSV", "webhook" pass: the Vietnamese keeps them).
"Data" means the words people typed (names of points, people, events, channels...), read from the
database's free-text columns; words the system itself writes (audit summaries, task and notice
errors) are not data and must be Vietnamese.
"""
from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

from babel.messages.pofile import read_po
from sqlalchemy import String, Text, select

from launch.extensions import db
from tests.web.test_access_matrix import OPERATOR, VIEWER, cases, client_for

ROOT = Path(__file__).resolve().parents[2]
WORD = re.compile(r"[A-Za-z][A-Za-z']+")
#: Columns the system writes (or machine words): their words are not data and must not hide English.
SYSTEM_COLUMNS = {
    ("audit_entries", "summary"), ("audit_entries", "action"), ("audit_entries", "actor"),
    ("scheduled_tasks", "last_error"), ("notifications", "last_error"), ("notifications", "subject"),
    ("notifications", "body"),
}
MACHINE_COLUMN_NAMES = {"state", "status", "kind", "role", "level", "purpose", "method", "checkin_method",
                        "channel_kind", "rhythm", "reporting_level", "target_rule", "template", "division_type",
                        "action", "stage", "key", "prefix", "token_hash", "password_hash", "badge_code", "locale",
                        "search_name", "meeting_name", "client_id", "ip", "target_type"}
VISIBLE_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt", "data-confirm")
#: Not read as prose: scripts and styles, and literal technical text shown as code (CSV column names,
#: error codes, the technical detail of a delivery error).
LITERAL_TAGS = ("script", "style", "code", "kbd", "samp", "pre")
#: Page path prefix -> words allowed there although English: the import page names the package
#: `vietnam-provinces` (a name, not prose).
KNOWN_LEFTOVERS: dict[str, set[str]] = {"/directory/import": {"vietnam", "provinces"}}


def catalogue_words() -> tuple[set[str], set[str]]:
    """(English words of the msgids, words of the Vietnamese msgstrs), lower-cased."""
    with (ROOT / "launch/translations/vi/LC_MESSAGES/messages.po").open("rb") as fh:
        catalog = read_po(fh)
    english, vietnamese = set(), set()
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in ids:
            english.update(w.lower() for w in WORD.findall(re.sub(r"%\(\w+\)[sd]", " ", text)))
        for text in strings:
            vietnamese.update(w.lower() for w in WORD.findall(re.sub(r"%\(\w+\)[sd]", " ", text or "")))
    return english - vietnamese, vietnamese


def data_words() -> set[str]:
    """Words people typed, from every free-text column but the system's own."""
    words: set[str] = set()
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if not isinstance(column.type, (String, Text)) or column.name in MACHINE_COLUMN_NAMES:
                continue
            if (table.name, column.name) in SYSTEM_COLUMNS:
                continue
            for (value,) in db.session.execute(select(column).where(column.is_not(None))):
                words.update(w.lower() for w in WORD.findall(str(value)))
    return words


class VisibleText(HTMLParser):
    """The text a person sees (no scripts or styles), plus tooltips, placeholders and confirmations."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0
        self._json = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attrs_d = dict(attrs)
        if tag in LITERAL_TAGS:
            self._skip += 1
            self._json = tag == "script" and attrs_d.get("type") == "application/json"
        for name in VISIBLE_ATTRIBUTES:
            if attrs_d.get(name):
                self.parts.append(attrs_d[name] or "")
        if tag == "input" and attrs_d.get("type") in ("submit", "button") and attrs_d.get("value"):
            self.parts.append(attrs_d["value"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in LITERAL_TAGS:
            self._skip = max(0, self._skip - 1)
            self._json = False

    def handle_data(self, data: str) -> None:
        if self._json:
            self.parts.extend(_json_strings(json.loads(data)))
        elif not self._skip:
            self.parts.append(data)


def _json_strings(value) -> list[str]:  # noqa: ANN001
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _json_strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _json_strings(v)]
    return []


def english_on(html: str, english: set[str], data: set[str]) -> set[str]:
    parser = VisibleText()
    parser.feed(html)
    text = " ".join(parser.parts)
    text = re.sub(r"https?://\S+|\S+@\S+|(?<![\w/])/[\w./<>{}-]+", " ", text)  # addresses and paths
    text = re.sub(r"%\(\w+\)[sd]|\{\w+\}", " ", text)  # placeholders the pages' scripts fill in
    return {w for w in (m.lower() for m in WORD.findall(text)) if w in english and w not in data}


def a_mornings_activity(app, world, users) -> None:  # noqa: ANN001
    """State changes, point edits, a failed webhook, a skipped e-mail, accounts: what the log pages show."""
    from launch.models import Event
    from launch.services import accounts, events, notifications

    operator = users["operator"]
    event = db.session.get(Event, world.event_id)
    events.update_points(event, {world.point_id: {"expected_attendance": "48"}}, actor=operator)
    events.change_state(event, "testing", actor=operator)
    notifications.create_channel("webhook", "Cổng tin nhắn", {"url": "http://127.0.0.1:9/khong-co"})
    notifications.create_channel("email", "Thư điện tử IOC", {"host": "127.0.0.1", "port": "9"})
    notifications.send_notice([operator, users["commune_host"]], "Nhắc lịch", "Nội dung", event_id=event.id)
    db.session.commit()
    notifications.deliver_pending()
    host, _secret = accounts.create_account({"username": "moinhat", "display_name": "Người mới", "role": "host",
                                             "units": "21046"}, actor=operator)
    accounts.update_account(host, {"display_name": "Người mới nhất", "role": "host", "units": "21046",
                                   "email": "moi@example.vn"}, actor=operator)


def test_every_page_speaks_vietnamese(app, world, users, clock):
    a_mornings_activity(app, world, users)
    english, _vietnamese = catalogue_words()
    data = data_words()
    problems: dict[str, set[str]] = {}
    walked = 0
    for role in (OPERATOR, VIEWER, "host"):
        client = client_for(app, role)
        client.get("/lang/vi")
        for case in cases(world):
            if case.method != "GET" or role not in case.allowed or case.rule.startswith("/static"):
                continue
            resp = client.get(case.url)
            if resp.status_code != 200 or resp.mimetype != "text/html":
                continue
            walked += 1
            found = english_on(resp.get_data(as_text=True), english, data)
            found -= next((words for prefix, words in KNOWN_LEFTOVERS.items() if case.rule.startswith(prefix)),
                          set())
            if found:
                problems[f"{role} {case.url}"] = found
        # Pages that answer a form: the printed link sheets, a refused link.
        if role == OPERATOR:
            for url in (f"/admin/events/{world.event_id}/onboarding", f"/admin/users/{world.account_id}/reset"):
                resp = client.post(url)
                assert resp.status_code == 200, url
                if found := english_on(resp.get_data(as_text=True), english, data):
                    problems[f"{role} POST {url}"] = found
            walked += 2
        # Error pages too.
        for url in ("/events/999999", "/no-such-page", "/welcome/not-a-link"):
            found = english_on(client.get(url).get_data(as_text=True), english, data)
            if found:
                problems[f"{role} {url}"] = found
    assert walked > 60
    assert problems == {}, "English on Vietnamese pages:\n" + "\n".join(
        f"  {page}: {', '.join(sorted(words))}" for page, words in sorted(problems.items()))


def test_the_audit_log_says_what_happened_in_words(app, world, users, clock):
    """The entries the events and campaigns services write read as sentences: the state from what to
    what, how many point settings, the campaign's units and dates (not 'scheduled -> testing')."""
    a_mornings_activity(app, world, users)
    client = client_for(app, OPERATOR)
    client.get("/lang/vi")
    html = client.get("/admin/audit").get_data(as_text=True)
    assert "Đã lên lịch → Kiểm tra kết nối" in html
    assert "đã thay đổi 1 thông tin điểm cầu" in html
    assert ("Đã tạo chiến dịch 7 người dân trong 7 ngày – Bình Sơn: 22 đơn vị (Cấp xã), "
            "05/08/2023 00:00 – 08/08/2023 00:00") in html
    for english in ("scheduled -> testing", "point setting(s) changed", "commune units"):
        assert english not in html
