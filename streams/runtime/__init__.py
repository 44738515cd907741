"""How the worker runs records: conversations in flight, not partitions.

`offsets` decides which offsets may be acknowledged (pure); `lanes` runs the records of one
partition, one lane per key, many keys at once, within bounds.
"""
