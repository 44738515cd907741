"""Each Faust table has its source topic's partition count, from Settings.

Faust's own co-partitioning check is skipped (streams/runtime/faust_fixes.py) because it reads
stale metadata right after a changelog is created; this is the check in its place.
"""

from __future__ import annotations

import pytest

from schemas.catalogue import CONTACT_EVENTS, INBOUND, sized
from streams.bootstrap import bootstrap
from switchboard.settings import Settings


@pytest.mark.parametrize("partitions", [6, 3])
def test_every_table_is_partitioned_like_the_topic_its_agent_reads(partitions: int) -> None:
    """SWITCHBOARD_TOPIC_PARTITIONS sizes the keyed topics and the tables that follow them."""
    app = bootstrap(
        Settings(switchboard_topic_prefix="unit.", switchboard_topic_partitions=partitions)
    ).app
    catalogue = {t.name: t for t in sized(partitions)}
    agents = {agent.name.rsplit(".", 1)[-1]: agent for agent in app.agents.values()}
    sources = {"conversation-state": ("converse", INBOUND), "consent": ("contacts", CONTACT_EVENTS)}
    assert set(app.tables) == set(sources)
    for table_name, (agent_name, topic) in sources.items():
        assert app.tables[table_name].partitions == catalogue[topic.name].partitions == partitions
        assert agents[agent_name].channel.get_topic_name() == topic.full_name("unit.")
