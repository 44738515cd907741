"""Consent: a contact's current consent per type, kept in a Faust table, and the decisions
the conversation flow takes from it."""
