"""年度活动与通知: the app's data (see docs/architecture.md for the app layout)."""
