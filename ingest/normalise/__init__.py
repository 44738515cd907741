"""Provider payloads → typed events. Pure functions: no I/O, no clock, no settings."""
