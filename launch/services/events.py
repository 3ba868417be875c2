"""Launch events (filled in by the events feature)."""
