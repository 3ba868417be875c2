"""Launch events, their agenda and the points invited to them."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from launch.clock import utcnow
from launch.extensions import db
from launch.models.types import UTCDateTime
from launch.models.units import Unit
from launch.models.users import User

#: Lifecycle: draft -> scheduled -> testing (connection-test window) -> live -> ended; or cancelled.
EVENT_STATES = ("draft", "scheduled", "testing", "live", "ended", "cancelled")
DEFAULT_REMINDER_OFFSETS = [24 * 60, 60, 15]  # minutes before the start


class Event(db.Model):
    """A launch ceremony run from a host point and broadcast to invited points."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    start_dt: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    end_dt: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    state_changed_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    host_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    #: The directory edition (map) the event is held on; its points are units of that edition.
    edition: Mapped[str | None] = mapped_column(ForeignKey("editions.code"))
    meeting_url: Mapped[str | None] = mapped_column(String(500))
    meeting_id: Mapped[str | None] = mapped_column(String(100))
    meeting_passcode: Mapped[str | None] = mapped_column(String(100))
    #: Minutes before the start when the connection-test window opens.
    test_window_minutes: Mapped[int] = mapped_column(Integer, default=60)
    #: Minutes after the start after which a point not checked in is absent.
    absence_grace_minutes: Mapped[int] = mapped_column(Integer, default=10)
    #: Reminder offsets, minutes before the start.
    reminder_offsets: Mapped[list] = mapped_column(JSON, default=lambda: list(DEFAULT_REMINDER_OFFSETS))
    #: An operator's choice: hosts may check in people of other units (walk-ins), and see the whole roster
    #: to find them. Off, a host sees and checks in only the people of the units they act for.
    allow_walk_ins: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    host_unit: Mapped[Unit | None] = relationship()
    created_by: Mapped[User | None] = relationship()
    agenda: Mapped[list[AgendaItem]] = relationship(
        back_populates="event", order_by="AgendaItem.position", cascade="all, delete-orphan"
    )
    points: Mapped[list[EventPoint]] = relationship(back_populates="event", cascade="all, delete-orphan")


class AgendaItem(db.Model):
    """A timed item of an event's programme."""

    __tablename__ = "agenda_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    starts_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    title: Mapped[str] = mapped_column(String(300))
    presenter: Mapped[str | None] = mapped_column(String(200))

    event: Mapped[Event] = relationship(back_populates="agenda")


class EventPoint(db.Model):
    """A connection point invited to an event, with its site check-in and live facts."""

    __tablename__ = "event_points"
    __table_args__ = (UniqueConstraint("event_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    #: The event's host point (the IOC): shown on the wall first, not counted among the invited.
    is_host: Mapped[bool] = mapped_column(Boolean, default=False)
    expected_attendance: Mapped[int] = mapped_column(Integer, default=0)
    #: Room or endpoint for this event (overrides the unit's).
    vc_endpoint: Mapped[str | None] = mapped_column(String(300))
    #: Participant display name / endpoint id the meeting platform reports for this point.
    meeting_name: Mapped[str | None] = mapped_column(String(200), index=True)
    #: Or the Zoom user's e-mail: matched before the name (two points may be given the same name).
    meeting_email: Mapped[str | None] = mapped_column(String(200))
    #: Bumped to revoke every QR issued before; tokens carry the version they were issued with.
    token_version: Mapped[int] = mapped_column(Integer, default=1)
    qr_issued_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    connection_tested_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Site check-in (once per point per event).
    checked_in_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_in_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: `qr`, `manual` (operator, by phone) or `api`.
    checkin_method: Mapped[str | None] = mapped_column(String(16))
    checkin_reason: Mapped[str | None] = mapped_column(String(500))
    headcount: Mapped[int | None] = mapped_column(Integer)
    headcount_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    absent_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Live facts: the meeting platform's view and the host page's presence.
    in_call: Mapped[bool] = mapped_column(Boolean, default=False)
    call_joined_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    call_left_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    call_seconds: Mapped[int] = mapped_column(Integer, default=0)
    last_seen_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The unit as the event was held with it (see `launch.services.hierarchy.freeze_points`): a
    # later re-organisation of the directory never rewrites the event's wall, report or exports.
    unit_code: Mapped[str | None] = mapped_column(String(16))
    unit_name: Mapped[str | None] = mapped_column(String(200))
    unit_level: Mapped[str | None] = mapped_column(String(16))
    unit_division_type: Mapped[str | None] = mapped_column(String(32))
    #: The point's group on the wall and in reports (a district in 2023, a province at a national
    #: launch; 0 for the host point): the unit id, code, name and level it had.
    group_id: Mapped[int | None] = mapped_column(Integer)
    group_code: Mapped[str | None] = mapped_column(String(16))
    group_name: Mapped[str | None] = mapped_column(String(200))
    group_level: Mapped[str | None] = mapped_column(String(16))

    event: Mapped[Event] = relationship(back_populates="points")
    unit: Mapped[Unit] = relationship()
    checked_in_by: Mapped[User | None] = relationship()

    @property
    def is_checked_in(self) -> bool:
        return self.checked_in_dt is not None


class MeetingParticipant(db.Model):
    """A meeting participant no point could be matched to (no point has that name or e-mail, or
    several have): listed on the wall until an operator assigns it to its point."""

    __tablename__ = "meeting_participants"
    __table_args__ = (UniqueConstraint("event_id", "participant_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    #: Zoom's participant id (or, without one, the e-mail or display name): one row per participant.
    participant_key: Mapped[str] = mapped_column(String(200))
    user_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))
    #: unmatched (no point) or ambiguous (several points)
    status: Mapped[str] = mapped_column(String(16))
    in_call: Mapped[bool] = mapped_column(Boolean, default=False)
    joined_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    left_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


#: When the stored readiness verdicts are taken: the opening of the connection-test window, and T-15 min.
READINESS_STAGES = ("test_window", "t15")


class ReadinessCheck(db.Model):
    """A point's readiness verdict taken at one stage before the start (stored, so it can be compared)."""

    __tablename__ = "readiness_checks"
    __table_args__ = (UniqueConstraint("event_point_id", "stage"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    event_point_id: Mapped[int] = mapped_column(ForeignKey("event_points.id", ondelete="CASCADE"), index=True)
    #: One of READINESS_STAGES.
    stage: Mapped[str] = mapped_column(String(16))
    checked_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    host_assigned: Mapped[bool] = mapped_column(Boolean, default=False)
    phone_present: Mapped[bool] = mapped_column(Boolean, default=False)
    connection_tested: Mapped[bool] = mapped_column(Boolean, default=False)
    qr_issued: Mapped[bool] = mapped_column(Boolean, default=False)
    is_ready: Mapped[bool] = mapped_column(Boolean, default=False)

    event_point: Mapped[EventPoint] = relationship()
