"""Export archives: `archive` assembles one from plain rows (pure), `store` reads the rows
and keeps the ``gdpr_exports`` row, `writer` puts the file on disk atomically."""
