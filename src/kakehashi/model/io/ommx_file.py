"""``.ommx`` files: OMMX artifact archives (OCI tar) holding an instance, or raw
``ommx.v1.Instance`` protobuf bytes (as written by ``Instance.to_bytes()``)."""

from __future__ import annotations

from pathlib import Path

from kakehashi.model.io.readers_common import (
    fail,
    ommx_errors,
    read_bytes,
    require_file,
    rust_message,
)
from kakehashi.model.problem import Problem


def is_tar(head: bytes) -> bool:
    return len(head) > 262 and head[257:262] == b"ustar"


def read_ommx(path: str | Path) -> Problem:
    """Read an OMMX artifact archive (its instance layer) or raw instance bytes.

    Example:
        >>> import tempfile, pathlib
        >>> from kakehashi.model.problem import Problem
        >>> f = pathlib.Path(tempfile.mkdtemp()) / "p.ommx"
        >>> write_ommx(Problem.from_arrays(linear=[1.0, 2.0]), f)
        >>> read_ommx(f).num_variables
        2
    """
    from ommx.v1 import Instance

    from kakehashi.model.ommx_io import from_ommx

    p = require_file(path)
    data = read_bytes(p)
    if is_tar(data[:512]):
        from ommx.artifact import Artifact

        try:
            artifact = Artifact.load_archive(str(p))
            instance = artifact.instance
        except ommx_errors() as exc:
            raise fail(
                p,
                f"an OMMX archive without a readable instance layer ({rust_message(exc)})",
                "write it with ArtifactBuilder.add_instance, or kakehashi.save(problem, 'x.ommx')",
            ) from None
    else:
        try:
            instance = Instance.from_bytes(data)
        except ommx_errors() as exc:
            raise fail(
                p,
                "neither an OMMX artifact archive nor ommx.v1.Instance bytes "
                f"({rust_message(exc)})",
                "check that the file is complete and really an .ommx file",
            ) from None
    problem = from_ommx(instance)
    problem.metadata.setdefault("format", "ommx")
    problem.metadata["source"] = str(p)
    return problem


def write_ommx(problem: Problem, path: str | Path) -> None:
    """Write an OMMX artifact archive holding ``to_ommx(problem)`` (replacing the file)."""
    from ommx.artifact import ArtifactBuilder

    from kakehashi.model.ommx_io import to_ommx

    instance = to_ommx(problem)
    target = Path(path)
    if target.exists():
        target.unlink()  # OMMX refuses to overwrite an archive
    builder = ArtifactBuilder.new_archive_unnamed(str(target))
    builder.add_instance(instance)
    builder.build()
