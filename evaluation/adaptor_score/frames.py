"""Frame identity and the record of a problem found in an input file."""

from __future__ import annotations

from dataclasses import dataclass
from os import PathLike
from pathlib import PurePath
from typing import NamedTuple

from adaptor_score.contract import LAYOUT_SUBFOLDERS


class FrameKey(NamedTuple):
    """One frame: surgery or simulation folder, video, and frame name without extension."""

    folder: str
    video: str
    frame: str

    def __str__(self) -> str:
        return f"{self.folder}/{self.video}/{self.frame}"

    @classmethod
    def parse(cls, text: str) -> FrameKey:
        """Read ``folder/video/frame`` (an extension on the frame is dropped).

        >>> FrameKey.parse("aicm1/VID000_0/000000.png")
        FrameKey(folder='aicm1', video='VID000_0', frame='000000')
        """
        parts = [p for p in text.strip().replace("\\", "/").split("/") if p]
        parts = [p for p in parts if p not in LAYOUT_SUBFOLDERS] if len(parts) > 3 else parts
        if len(parts) != 3:
            raise ValueError(f"expected folder/video/frame, got {text!r}")
        return cls(parts[0], parts[1], PurePath(parts[2]).stem)


def key_from_relative_path(relative: PurePath | str) -> FrameKey | None:
    """Place a file by its path below a root: ``<folder>/<video>/[images|point_labels/]<frame>.*``.

    The last component gives the frame; one layout subfolder is skipped; the two components above
    are video and folder. Returns None when the path is too short to tell.

    >>> key_from_relative_path(PurePath("aicm1/VID000_0/images/000001.json"))
    FrameKey(folder='aicm1', video='VID000_0', frame='000001')
    """
    parts = (
        relative.replace("\\", "/").split("/")
        if isinstance(relative, str)
        else list(relative.parts)
    )
    parts = [p for p in parts if p and p != "."]
    if len(parts) < 3:
        return None
    name = parts.pop()
    dot = name.rfind(".")
    frame = name[:dot] if dot > 0 else name
    if parts[-1] in LAYOUT_SUBFOLDERS:
        parts.pop()
    if len(parts) < 2:
        return None
    return FrameKey(parts[-2], parts[-1], frame)


class InputFileError(Exception):
    """An input file or folder that stops the run; ``file`` and ``problem`` name it and say why.

    The ground truth, fold files, manifests and the baseline's labels raise subclasses of it.
    """

    def __init__(self, file: str | PathLike, problem: str):
        self.file = str(file)
        self.problem = problem
        super().__init__(f"{file}: {problem}")


@dataclass(frozen=True)
class Problem:
    """A problem with one input file; ``frame`` is the frame it concerns, when that is known."""

    file: str
    problem: str
    frame: FrameKey | None = None

    def to_dict(self) -> dict[str, str | None]:
        return {
            "file": self.file,
            "problem": self.problem,
            "frame": None if self.frame is None else str(self.frame),
        }
