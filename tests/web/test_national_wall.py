"""A national launch on the web: the whole wall is the group view, its snapshot stays small, and QR
sheets print one province at a time."""
from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import zxingcpp
from PIL import Image
from sqlalchemy import select

from launch.extensions import db
from launch.models import Unit
from launch.services import directory, events, qr
from tests.conftest import login


def test_the_national_wall_its_snapshot_and_a_provinces_qr_sheet(app, make_user):
    directory.import_current_map()
    event = events.create_event({"title": "Lễ phát động toàn quốc", "start": "2030-03-04T08:00",
                                 "end": "2030-03-04T09:30"}, now=datetime(2030, 3, 1, tzinfo=UTC))
    qn = db.session.scalar(select(Unit).where(Unit.edition == "2025", Unit.level == "province", Unit.code == "51"))
    make_user("operator", username="op")
    client = app.test_client()
    login(client, "op")
    page = client.get(f"/wall/{event.id}").get_data(as_text=True)
    assert 'data-view="groups"' in page and "js/wall_groups." in page and 'id="wall-filters"' not in page
    province_page = client.get(f"/wall/{event.id}/district/{qn.id}").get_data(as_text=True)
    assert 'data-view="points"' in province_page and "js/wall." in province_page
    snapshot = client.get(f"/wall/{event.id}/snapshot.json")
    assert snapshot.json["view"] == "groups" and len(snapshot.json["groups"]) == 34
    assert len(snapshot.data) < 30_000
    sheet = client.get(f"/c/events/{event.id}/qr-sheet?district={qn.id}").get_data(as_text=True)
    assert sheet.count('class="qr-card"') == 97 and "Tỉnh Quảng Ngãi" in sheet
    # Drawn with a fixed mask (fast): every code of the sheet still decodes to its point's address.
    urls = re.findall(r'data-url="([^"]+)"', sheet)
    for url in urls[:12]:
        png = io.BytesIO()
        qr.sheet_code(url).save(png, kind="png", scale=4)
        assert [b.text for b in zxingcpp.read_barcodes(Image.open(io.BytesIO(png.getvalue())))] == [url]
    assert client.get(f"/c/events/{event.id}/qr-sheet?district=99999999").status_code == 404
    report = client.get(f"/wall/{event.id}/report?district={qn.id}").get_data(as_text=True)
    assert "Tỉnh Quảng Ngãi" in report and "Xã Tịnh Khê" in report
