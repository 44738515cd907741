"""Fakes and builders that test modules share: one concept a module."""
