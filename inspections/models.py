"""督查与整改: the app's data (see docs/architecture.md for the app layout)."""
