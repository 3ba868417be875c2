"""The models, one module per aggregate; importing this package registers them all."""
from launch.models.audit import AuditEntry
from launch.models.campaigns import Campaign
from launch.models.checkins import Activity, Attendee, AttendeeCheckin, PointProblem, RevokedBadge, UndoneCheckin
from launch.models.events import AgendaItem, Event, EventPoint, MeetingParticipant
from launch.models.notifications import Notification, NotificationChannel
from launch.models.tasks import ScheduledTask
from launch.models.teams import Team
from launch.models.units import Unit
from launch.models.users import ApiToken, User, user_units

__all__ = [
    "Activity",
    "AgendaItem",
    "ApiToken",
    "Attendee",
    "AttendeeCheckin",
    "AuditEntry",
    "Campaign",
    "Event",
    "EventPoint",
    "MeetingParticipant",
    "Notification",
    "NotificationChannel",
    "PointProblem",
    "RevokedBadge",
    "ScheduledTask",
    "Team",
    "UndoneCheckin",
    "Unit",
    "User",
    "user_units",
]
