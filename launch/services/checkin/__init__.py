"""Check-in: the ONE place that writes site and attendee check-ins and the host's reports. Where to look:

- `rules`: refusal codes and their HTTP status, the answer, the check-in window, the host's scope;
- `site`: a point checks in by its QR code (or by hand), QR withdrawal, QR sheets printed;
- `attendees`: a person checks in by badge or by name, once per event, retries answered once; a host
  checks in the people of their own units, others only as walk-ins the operator allowed;
- `host_reports`: headcount, connection test, problems;
- `corrections`: undo a check-in (the host briefly, an operator any time), mark a problem resolved;
- `queries`: one event point, an event's points, the points a host acts for.

Modelled on pretix's `perform_checkin`: every write is one transaction, idempotent (a scan carries a
client id, unique in the database, and a retry gets the first answer), safe under concurrency (the
site check-in is a conditional UPDATE ... WHERE checked_in_dt IS NULL; a person's check-in relies on
the unique (event, attendee) key), writes an Activity row, and sends `wall_changed` AFTER the
commit. Refusals raise `CheckinRefused` with a machine code; token refusals are audited
(`checkin.refused`) in their own commit, and nothing else is written.
"""
from launch.services.checkin.attendees import check_in_attendee, parse_scanned_dt
from launch.services.checkin.corrections import (
    checkins_by_attendee,
    lasted,
    may_undo,
    open_problems,
    resolve_problem,
    undo_attendee_checkin,
    undo_site_checkin,
    undo_window,
)
from launch.services.checkin.host_reports import confirm_connection_test, report_headcount, report_problem
from launch.services.checkin.queries import event_points, get_point, my_points, sheet_points
from launch.services.checkin.rules import (
    HARMLESS,
    STATUS,
    CheckinRefused,
    CheckinResult,
    check_window,
    point_label,
    point_state,
)
from launch.services.checkin.site import (
    check_in_site,
    manual_site_checkin,
    mark_qr_issued,
    open_site_token,
    resolve_site_token,
    revoke_point_qr,
)

__all__ = [
    "HARMLESS", "STATUS", "CheckinRefused", "CheckinResult", "check_in_attendee", "check_in_site", "check_window",
    "confirm_connection_test", "event_points", "get_point", "manual_site_checkin", "mark_qr_issued", "my_points",
    "open_site_token", "parse_scanned_dt", "point_label", "point_state", "report_headcount", "report_problem",
    "resolve_site_token", "revoke_point_qr", "sheet_points",
    # corrections
    "checkins_by_attendee", "lasted", "may_undo", "open_problems", "resolve_problem", "undo_attendee_checkin",
    "undo_site_checkin", "undo_window",
]
