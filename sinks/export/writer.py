"""Export archives on disk: one file per export, `{directory}/{export_id}.json`.

Written atomically (a temporary file in the same directory, flushed, then renamed), so a
reader, or the erasure that deletes archives, never sees half a file; readable by the
owner only, since it holds a person's data. The path depends on the export id alone, so
an erasure can remove the archive of every export row of a contact, finished or not.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path

_SAFE_ID = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.:-]{0,127}$")


class BadExportIdError(ValueError):
    pass


def archive_path(directory: Path, export_id: str) -> Path:
    """Where an export's archive lives; refuses ids that could leave the directory."""
    if not _SAFE_ID.fullmatch(export_id) or ".." in export_id:
        raise BadExportIdError("export ids are letters, digits and _ . : - only")
    return directory.resolve() / f"{export_id}.json"


def write_atomically(path: Path, data: bytes) -> int:
    """Write ``data`` to ``path`` (mode 0600, directory created 0700); returns its size."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:  # mkstemp creates it 0600
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _sync_directory(path.parent)
    return len(data)


def remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _sync_directory(directory: Path) -> None:
    """Make the rename itself durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
