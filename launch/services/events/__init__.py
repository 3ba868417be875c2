"""Launch events: where to look.

- `states`: the lifecycle's states, order and manual moves (draft -> scheduled -> testing -> live ->
  ended; or cancelled);
- `forms`: the event form, every input checked (reminder offsets, agenda, invited points, ...);
- `queries`: one event, the events a user may see, invited points, the calendar, the tasks;
- `operations`: creating and editing an event, its agenda, points and their settings, walk-ins;
- `lifecycle`: state changes by hand and on time, cancelling, the plan of tasks, absence;
- `readiness`: the points' readiness, live and stored at the readiness tasks;
- `notices`: what the hosts are told (reminders, a move, a cancellation).

What runs at the tasks' times: `launch.jobs.event_tasks`. The public API is re-exported here, so
`from launch.services import events; events.create_event(...)` reads as before.
"""
from launch.services.events.forms import MAX_OFFSETS, agenda_text, format_offset, parse_agenda_text, parse_offsets
from launch.services.events.lifecycle import (
    PERISHABLE_TASKS,
    cancel_event,
    change_state,
    flag_absent,
    plan,
    sync_tasks,
    transition,
)
from launch.services.events.notices import reminder_text, send_reminders
from launch.services.events.operations import POINT_TEXTS, create_event, set_walk_ins, update_event, update_points
from launch.services.events.queries import (
    calendar_month,
    can_view,
    get_event,
    invited_points,
    province_unit,
    tasks_of,
    upcoming_for,
    user_points,
    visible_events_query,
)
from launch.services.events.readiness import (
    CHECK_LABELS,
    CHECKS,
    MISSING_LABELS,
    STAGE_LABELS,
    Verdict,
    missing_text,
    readiness,
    readiness_stages,
    record_readiness,
    stage_notes,
    stored_readiness,
)
from launch.services.events.states import (
    MANUAL_MOVES,
    STATE_LABELS,
    STATE_ORDER,
    TASK_LABELS,
    TERMINAL_STATES,
    may_advance,
)

__all__ = [
    "CHECKS", "CHECK_LABELS", "MANUAL_MOVES", "MAX_OFFSETS", "MISSING_LABELS", "PERISHABLE_TASKS", "POINT_TEXTS",
    "STAGE_LABELS", "STATE_LABELS", "STATE_ORDER", "TASK_LABELS", "TERMINAL_STATES", "Verdict", "agenda_text",
    "calendar_month", "can_view", "cancel_event", "change_state", "create_event", "flag_absent", "format_offset",
    "get_event", "invited_points", "may_advance", "missing_text", "parse_agenda_text", "parse_offsets", "plan",
    "province_unit", "readiness", "readiness_stages", "record_readiness", "reminder_text", "send_reminders",
    "set_walk_ins", "stage_notes", "stored_readiness", "sync_tasks", "tasks_of", "transition", "upcoming_for",
    "update_event", "update_points", "user_points", "visible_events_query",
]
