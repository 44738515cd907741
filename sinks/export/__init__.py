"""Export archives: `archive` assembles one from plain rows (pure), `store` reads the rows
and keeps the ``gdpr_exports`` row, `writer` puts the file on disk atomically, `links`
signs and checks the download links (the compliance API serves them, the worker sends them
to a customer who asked in the chat)."""
