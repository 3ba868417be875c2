"""The models, one module per aggregate; importing this package registers them all."""
from launch.models.audit import AuditEntry
from launch.models.campaigns import Campaign
from launch.models.checkins import Activity, Attendee, AttendeeCheckin, PointProblem, RevokedBadge
from launch.models.events import AgendaItem, Event, EventPoint, MeetingParticipant
from launch.models.invitations import Invitation
from launch.models.notifications import Notification, NotificationChannel
from launch.models.tasks import ScheduledTask
from launch.models.teams import Team
from launch.models.units import Edition, Unit
from launch.models.users import ApiToken, User, user_units

__all__ = [
    "Activity",
    "AgendaItem",
    "ApiToken",
    "Attendee",
    "AttendeeCheckin",
    "AuditEntry",
    "Campaign",
    "Edition",
    "Event",
    "EventPoint",
    "Invitation",
    "MeetingParticipant",
    "Notification",
    "NotificationChannel",
    "PointProblem",
    "RevokedBadge",
    "ScheduledTask",
    "Team",
    "Unit",
    "User",
    "user_units",
]
