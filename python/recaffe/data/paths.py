"""Where the shared data lives: $RECAFFE_DATA, else ../shared/data next to the repository root."""
from __future__ import annotations

import os
from pathlib import Path


class DataMissing(FileNotFoundError):
    """A file of the shared data set is not there (tests skip on it unless RECAFFE_REQUIRE_DATA=1)."""


def _repo_root() -> Path | None:
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").exists() and (parent / "python" / "recaffe").exists():
            return parent
    return None


def data_dir() -> Path:
    env = os.environ.get("RECAFFE_DATA")
    if env:
        return Path(env)
    root = _repo_root()
    if root is not None:  # ../shared/data beside the checkout (or beside a folder of worktrees)
        for parent in root.parents:
            if (parent / "shared" / "data").exists():
                return parent / "shared" / "data"
    return Path.cwd().parent / "shared" / "data"


def data_path(*parts: str) -> Path:
    """The path of a file in the data set; raises DataMissing (naming RECAFFE_DATA) if absent."""
    p = data_dir().joinpath(*parts)
    if not p.exists():
        raise DataMissing(f"{p} is missing (set RECAFFE_DATA to the shared data folder; now {data_dir()})")
    return p
