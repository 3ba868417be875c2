"""Socket.IO event handlers (filled in by the wall feature)."""
