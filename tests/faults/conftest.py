"""The fault tests run against the same real broker and database as the integration tests,
with the same session fixtures (imported, not copied)."""

from tests.integration.conftest import (  # noqa: F401 - fixtures, found by pytest by name
    database_url,
    endpoints,
    run_id,
    settings,
    standins,
)
