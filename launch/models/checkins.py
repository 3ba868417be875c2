"""Attendees, their check-ins, problems reported by points and the activity feed."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from launch.clock import utcnow
from launch.extensions import db
from launch.models.events import Event, EventPoint
from launch.models.types import UTCDateTime
from launch.models.units import Unit
from launch.models.users import User

PROBLEM_KINDS = ("no_audio", "no_video", "no_connection", "other")


class Attendee(db.Model):
    """A person on an event's roster, with a personal badge."""

    __tablename__ = "attendees"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    full_name: Mapped[str] = mapped_column(String(200))
    search_name: Mapped[str] = mapped_column(String(200), index=True)
    position: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    #: Random, unguessable code printed (signed) on the badge.
    badge_code: Mapped[str] = mapped_column(String(32), unique=True)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    event: Mapped[Event] = relationship()
    unit: Mapped[Unit | None] = relationship()


class RevokedBadge(db.Model):
    """A badge code that was replaced (a lost or stolen badge): scanning it is refused by name."""

    __tablename__ = "revoked_badges"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    attendee_id: Mapped[int] = mapped_column(ForeignKey("attendees.id", ondelete="CASCADE"), index=True)
    badge_code: Mapped[str] = mapped_column(String(32), unique=True)
    revoked_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    attendee: Mapped[Attendee] = relationship()


class AttendeeCheckin(db.Model):
    """A person's single check-in for an event; the unique keys make retries and races safe."""

    __tablename__ = "attendee_checkins"
    __table_args__ = (UniqueConstraint("event_id", "attendee_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    attendee_id: Mapped[int] = mapped_column(ForeignKey("attendees.id", ondelete="CASCADE"))
    event_point_id: Mapped[int] = mapped_column(ForeignKey("event_points.id", ondelete="CASCADE"), index=True)
    #: Client-generated id of the scan: a retried scan is recorded once.
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    #: When the phone scanned (may be earlier than recorded_dt for a queued offline scan).
    scanned_dt: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: `scan`, `manual` (searched by name) or `api`.
    method: Mapped[str] = mapped_column(String(16), default="scan")

    attendee: Mapped[Attendee] = relationship()
    event_point: Mapped[EventPoint] = relationship()
    by_user: Mapped[User | None] = relationship()


class UndoneCheckin(db.Model):
    """A person's check-in that was undone (a wrong badge, the wrong person picked): moved out of
    attendee_checkins, so the person can be checked in again, and kept here with who undid it and when.
    Its client id stays taken: a late retry of the undone scan is refused, never recorded again."""

    __tablename__ = "undone_checkins"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    attendee_id: Mapped[int] = mapped_column(ForeignKey("attendees.id", ondelete="CASCADE"), index=True)
    event_point_id: Mapped[int] = mapped_column(ForeignKey("event_points.id", ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    scanned_dt: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_dt: Mapped[datetime] = mapped_column(UTCDateTime)
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    method: Mapped[str] = mapped_column(String(16), default="scan")
    undone_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    attendee: Mapped[Attendee] = relationship()
    undone_by: Mapped[User | None] = relationship(foreign_keys=[undone_by_id])


class PointProblem(db.Model):
    """A problem a host reports at a point (no audio, no video, no connection, other)."""

    __tablename__ = "point_problems"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_point_id: Mapped[int] = mapped_column(ForeignKey("event_points.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str | None] = mapped_column(Text)
    reported_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    resolved_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Who marked it resolved (the host at the point or an operator).
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    event_point: Mapped[EventPoint] = relationship()
    reported_by: Mapped[User | None] = relationship(foreign_keys=[reported_by_id])
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id])


class Activity(db.Model):
    """One line of an event's activity feed and timeline (check-ins, problems, presence, call)."""

    __tablename__ = "activities"
    #: The wall's feed reads an event's newest rows: walk this index backwards instead of sorting them all.
    __table_args__ = (Index("ix_activities_event_newest", "event_id", "created_dt", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    event_point_id: Mapped[int | None] = mapped_column(ForeignKey("event_points.id", ondelete="CASCADE"))
    #: e.g. `site_checkin`, `attendee_checkin`, `problem`, `presence_lost`, `presence_back`,
    #: `call_joined`, `call_left`, `absent`, `state`.
    kind: Mapped[str] = mapped_column(String(32))
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    data: Mapped[dict | None] = mapped_column(JSON)

    event_point: Mapped[EventPoint | None] = relationship()
