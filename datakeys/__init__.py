"""Data keys: the key ring over the data-keys and erasures topics, and key-creation claims.

No Faust here: ingest imports it too.
"""
