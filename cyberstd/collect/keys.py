"""Whether a file holding a private key can be read by others on this computer."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from cyberstd.messages import Msg, msg


def exposed(path: Path, env: str) -> Msg | None:
    """A warning when others than its owner may read or change the key file at `path` (its
    mode allows group or others anything); None when it is private, or on Windows, whose
    access lists the mode does not show."""
    if os.name == "nt":
        return None
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None
    if not mode & 0o077:
        return None
    return msg("collect.key.exposed", path=str(path), env=env, mode=f"{mode:04o}")
