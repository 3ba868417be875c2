"""Follow-up campaigns: where to look.

- `settings`: limits and the words for states, rhythms, levels, target rules, report statuses;
- `templates`: the article's campaigns ("7 residents in 7 days", Mộ Đức's 30-day plan) as templates;
- `periods`: reporting periods (daily or weekly, local time) and their cut-offs;
- `forms`: the settings form, every input checked;
- `queries`: one campaign, what a user may see, targets, report history;
- `operations`: saving settings, target overrides, progress reports and their corrections;
- `lifecycle`: the campaign's tasks, moving with its launch, cancelling, opening and closing;
- `progress`: the dashboard's figures; `exports`: CSV and XLSX;
- `notices`: reminders and escalations about missing reports, summaries.

Targets and progress are always computed from the stored rules, teams and reports; nothing derived
is stored, so a correction changes every total at once. What runs at the tasks' times:
`launch.jobs.campaign_tasks`. The public API is re-exported here.
"""
from launch.services.campaigns.exports import export_csv, export_rows, export_xlsx
from launch.services.campaigns.forms import campaign_form_data, metric_key, validate_campaign
from launch.services.campaigns.lifecycle import cancel_campaign, close_campaign, follow_event, open_campaign
from launch.services.campaigns.notices import chase_missing, send_period_summary, summary_text
from launch.services.campaigns.operations import save_campaign, set_target_overrides, submit_report, write_report
from launch.services.campaigns.periods import (
    Period,
    compute_periods,
    cutoff_text,
    last_day,
    local_midnight,
    periods,
    started_periods,
)
from launch.services.campaigns.progress import GroupProgress, UnitProgress, progress, progress_json
from launch.services.campaigns.queries import (
    campaigns_for,
    ensure_can_view,
    get_campaign,
    has_reports,
    primary_metric,
    recent_reports_query,
    report_history,
    reporting_districts,
    reporting_units_of,
    rule_target,
    target_sheet,
    targets,
    visible_unit_ids,
)
from launch.services.campaigns.settings import (
    LEVEL_LABELS,
    MAX_METRICS,
    MAX_PERIODS,
    MAX_VALUE,
    RHYTHM_LABELS,
    RULE_LABELS,
    STATE_LABELS,
    STATUS_LABELS,
)
from launch.services.campaigns.templates import TEMPLATES, launch_event, template_defaults

__all__ = [
    "GroupProgress", "LEVEL_LABELS", "MAX_METRICS", "MAX_PERIODS", "MAX_VALUE", "Period", "RHYTHM_LABELS",
    "RULE_LABELS", "STATE_LABELS", "STATUS_LABELS", "TEMPLATES", "UnitProgress", "campaign_form_data",
    "campaigns_for", "cancel_campaign", "chase_missing", "close_campaign", "compute_periods", "cutoff_text",
    "ensure_can_view", "export_csv", "export_rows", "export_xlsx", "follow_event", "get_campaign", "has_reports",
    "last_day", "launch_event", "local_midnight", "metric_key", "open_campaign", "periods", "primary_metric",
    "progress", "progress_json", "recent_reports_query", "report_history", "reporting_districts",
    "reporting_units_of", "rule_target", "save_campaign", "send_period_summary", "set_target_overrides",
    "started_periods", "submit_report", "summary_text", "target_sheet", "targets", "template_defaults",
    "validate_campaign", "visible_unit_ids", "write_report",
]
