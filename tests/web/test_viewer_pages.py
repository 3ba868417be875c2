"""The viewer role ("read everything, change nothing") reads the audit log, the notice log and the
campaign targets, with no control that would write."""
from __future__ import annotations

from launch.extensions import db
from launch.models import AuditEntry, Notification


def test_viewer_reads_audit_notices_and_targets_without_write_controls(app, world, as_user, clock):
    viewer = as_user("viewer")
    db.session.add(AuditEntry(actor="op", action="unit.updated", summary="unit 524 Huyện Bình Sơn: host_phone changed"))
    db.session.commit()
    audit = viewer.get("/admin/audit")
    assert audit.status_code == 200 and b"unit.updated" in audit.data
    log = viewer.get("/notices/log")
    assert log.status_code == 200
    assert f'data-notice-id="{world.notice_id}"'.encode() in log.data
    assert b"/retry" not in log.data  # the operator's retry button is not offered
    assert viewer.post(f"/notices/log/{world.notice_id}/retry").status_code == 403
    assert db.session.get(Notification, world.notice_id).status == "failed"
    targets = viewer.get(f"/campaigns/{world.campaign_id}/targets")
    assert targets.status_code == 200
    html = targets.get_data(as_text=True)
    assert 'type="number"' not in html and "data-target=" in html
    assert viewer.post(f"/campaigns/{world.campaign_id}/targets", data={}).status_code == 403
    # The pages are reachable from the viewer's menus.
    assert b"/admin/audit" in viewer.get("/").data
    assert b"/notices/log" in viewer.get("/notices/").data
    assert f"/campaigns/{world.campaign_id}/targets".encode() in viewer.get(f"/campaigns/{world.campaign_id}").data
