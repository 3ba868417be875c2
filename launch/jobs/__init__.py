"""Scheduled work: the scheduler's setup and the job functions (which call services)."""
