"""Scheduled work: the scheduler's setup (`scheduler`), the task runner and its ONE table of
handlers (`tasks`), and the handlers of event and campaign tasks (`event_tasks`, `campaign_tasks`),
which call the services."""
