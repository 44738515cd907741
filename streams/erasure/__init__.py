"""Erasure (GDPR art. 17): forgetting a contact in every topic, table and sink."""
