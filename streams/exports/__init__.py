"""Export archives (GDPR art. 20): `requests` decides which events ask for one (pure);
`agent` is the Faust agent that builds and writes them (sinks/export holds the archive's
assembly, its queries and the file writer)."""
