"""Files that appear whole or not at all: write next to the target, then rename over it."""

import os
import shutil
from pathlib import Path


def atomic_write(path, data, encoding="utf-8"):
    """Write ``data`` (text, bytes, or a function that writes a given path) to ``path`` atomically.

    The parent folders are created. A reader (or a grader killed halfway) sees the old file or the
    new one, never a part: the data goes to a hidden file in the same folder, renamed over ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        if callable(data):
            data(tmp)
        elif isinstance(data, bytes):
            tmp.write_bytes(data)
        else:
            tmp.write_text(data, encoding=encoding)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def atomic_copytree(source, target):
    """Copy folder ``source`` to ``target`` (which must not exist yet) so that it appears whole."""
    target = Path(target)
    partial = target.with_name(f".{target.name}-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    shutil.copytree(source, partial)
    os.replace(partial, target)
    return target
