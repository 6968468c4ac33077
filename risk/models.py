"""风险预警: the app's data (see docs/architecture.md for the app layout)."""
