"""How the worker runs records, and the one door to Faust.

Only this folder imports Faust (import-linter holds it, `[tool.importlinter]` in
pyproject.toml); the agents' code speaks of a `types.Record`, a `types.Stream` and an
`types.App`. Inside:

- `app`: the Faust app from Settings, with the version check and the corrections of
  `faust_fixes` (each names the upstream issue it works around);
- `record_order`: a partition's records in offset order, none skipped (pure), and
  `commit_watch`: what to do about a commit that stopped moving (pure);
- `offsets`: which offsets may be acknowledged, the done prefix (pure); `lanes`: one lane
  per conversation inside a partition, bounded; `batches`: the store's shared writes;
  `partition`: the ordered agents' loop that joins them to Faust's stream;
- `reading`, `dead_letter`, `emit`, `keyed`: a record read and opened, a record put aside,
  an event written (sealed), a record keyed by contact id written, through Faust's producer.

Decision: the ordered agents keep reading through Faust's consumer, not aiokafka directly.
The conversation-state table is co-partitioned with ``inbound``, and Faust's assignor gives a
worker a partition together with that table's changelog partition; a consumer of our own
would get its assignment apart from the table's and read a conversation's state on a worker
that does not hold it. Measured, the guarantees hold on Faust's consumer: the fault suite
(tests/faults, with a second worker joining and leaving every few seconds) answers every
accepted message exactly once and in order per conversation, and bench.lanes shows the
concurrency (BENCHMARKS.md). No correction became unnecessary: the agents outside the lanes
(``exports``, ``contacts``) still acknowledge through Faust's own arithmetic.
"""
