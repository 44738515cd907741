"""The authenticated compliance API: consent, exports and erasure, for API clients and the CLI."""
