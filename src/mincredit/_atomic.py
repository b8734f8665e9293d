"""Files written all at once: a crash, an exception or Ctrl-C leaves the previous file (or none), never half of one.

The one writer of every file mincredit makes (results, evaluation records, plots, published lists, the
compiled-rulebook cache): the bytes go to a temporary file in the target's directory, which is flushed and
fsync'ed, given the mode a new file gets, renamed over the target (``os.replace`` is atomic within a file
system), and the directory is fsync'ed.  A process killed outright (SIGKILL, power loss) can leave a
``.NAME.*.part`` file beside the target, never a torn target.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import IO


class AtomicFile:
    """A file being written under a temporary name; :meth:`commit` puts it in place, :meth:`abort` drops it."""

    def __init__(self, path: str | Path, *, private: bool = False) -> None:
        self.path = Path(path)
        self.directory = self.path.parent if str(self.path.parent) else Path(".")
        self.private = private
        descriptor, temporary = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".part", dir=self.directory)
        self.temporary = Path(temporary)
        self.file: IO[bytes] = os.fdopen(descriptor, "wb")

    def commit(self) -> None:
        try:
            self.file.flush()
            os.fsync(self.file.fileno())
            self.file.close()
            if not self.private:   # mkstemp makes it 0600; give it the mode a new file gets
                umask = os.umask(0)
                os.umask(umask)
                os.chmod(self.temporary, 0o666 & ~umask)
            os.replace(self.temporary, self.path)
        except BaseException:
            self.abort()
            raise
        with contextlib.suppress(OSError):       # not every platform can open a directory
            directory = os.open(self.directory, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)

    def abort(self) -> None:
        with contextlib.suppress(OSError):
            self.file.close()
        with contextlib.suppress(FileNotFoundError):
            self.temporary.unlink()

    def __enter__(self) -> AtomicFile:
        return self

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        if kind is None:
            self.commit()
        else:
            self.abort()


def atomic_write(path: str | Path, data: bytes, *, private: bool = False) -> None:
    """Replace ``path`` with ``data`` all at once."""
    with AtomicFile(path, private=private) as output:
        output.file.write(data)
