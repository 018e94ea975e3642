"""Files and folders that hold traffic are readable by their owner only (0600 and 0700), whatever the umask.

Traffic holds identities, addresses and, with ``--no-redact``, secrets: a capture on a shared laptop or a CI
runner must not be readable by every account on it. The CA keys are kept the same way.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

FILE_MODE = 0o600
DIRECTORY_MODE = 0o700


def private_directory(path: str | os.PathLike[str]) -> Path:
    """``path`` and any missing parents created with mode 0700; directories that exist are left as they are."""
    directory = Path(path)
    missing = []
    current = directory
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for created in reversed(missing):
        try:
            created.mkdir(mode=DIRECTORY_MODE)
        except FileExistsError:  # made meanwhile by another process: it is theirs to set
            continue
        os.chmod(created, DIRECTORY_MODE)  # the umask may have taken bits the owner needs
    if not directory.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "not a directory", str(directory))
    return directory


def open_private(path: str | os.PathLike[str], *, buffering: int = -1) -> BinaryIO:
    """``path`` created (or truncated) for binary writing with mode 0600, whatever mode it had."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        # An existing file keeps its mode through O_CREAT. Only regular files: -o /dev/stdout is not ours.
        if stat.S_ISREG(os.fstat(fd).st_mode):
            os.fchmod(fd, FILE_MODE)
    except OSError:
        os.close(fd)
        raise
    return os.fdopen(fd, "wb", buffering=buffering)
