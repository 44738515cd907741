"""Chatwoot's contacts API, for erasure."""
