"""Follow-up campaigns (filled in by the campaigns feature)."""
