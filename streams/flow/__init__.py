"""The conversation flow: one compiled LangGraph graph that turns a customer message into
exactly one outcome, a reply or a hand-off, answered from a knowledge base.

`runner.Flow` is the way in. `intent`, `retrieval` and `graph` are pure; `model` builds the
chat model client and is the flow's one edge.
"""
