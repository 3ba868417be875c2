"""The models, one module per aggregate; importing this package registers them all."""
from launch.models.audit import AuditEntry
from launch.models.campaigns import Campaign
from launch.models.checkins import Activity, Attendee, AttendeeCheckin, PointProblem, RevokedBadge
from launch.models.events import AgendaItem, Event, EventPoint
from launch.models.notifications import Notification, NotificationChannel, ScheduledTask
from launch.models.units import Edition, Unit
from launch.models.users import User, user_units

__all__ = [
    "Activity",
    "AgendaItem",
    "Attendee",
    "AttendeeCheckin",
    "AuditEntry",
    "Campaign",
    "Edition",
    "Event",
    "EventPoint",
    "Notification",
    "NotificationChannel",
    "PointProblem",
    "RevokedBadge",
    "ScheduledTask",
    "Unit",
    "User",
    "user_units",
]
