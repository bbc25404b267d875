"""The challenge's contract and our input limits, each stated once.

Everything that the scorer, the validator, the baseline, the leaderboard and the tables must agree
on lives here, so that no two copies can drift apart. The submission template is self-contained
(participants copy it without the toolkit); a test checks that its copies equal these.
"""

from __future__ import annotations

# The released frames: mono images of 512 x 288 (width x height) pixels; points are (x, y) pixel
# coordinates of that grid, x = column, y = row.
FRAME_WIDTH = 512
FRAME_HEIGHT = 288
FRAME_SIZE = (FRAME_WIDTH, FRAME_HEIGHT)

# Image files a submission must answer: PNG and JPEG (the release), MetaImage and NIfTI
# (Grand-Challenge style inputs). Matched case-insensitively against the end of the file name.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".mha", ".mhd", ".nii", ".nii.gz")

# Folders that the AdaptOR layout puts between a video and its frames.
LAYOUT_SUBFOLDERS = frozenset({"images", "point_labels"})
LABEL_FOLDER = "point_labels"
IMAGE_FOLDER = "images"

# Matching radii: 6 px ranks; the paper also reports 8 and 10 px (Table 4). A radius beyond the
# frame's diagonal (587.4 px) would match any point with any label: refused wherever one is read.
RANKING_RADIUS = 6.0
MAX_RADIUS = 587.0
REPORT_RADII = (6.0, 8.0, 10.0)

# The paper's "close points": labels within 15 px of another label of the same frame (Fig. 4).
CLOSE_DISTANCE = 15.0

# ----------------------------------------------------------------------------- input limits
# A prediction file larger than this is refused unread (the real files are a few KB).
DEFAULT_MAX_BYTES = 16 * 1024 * 1024
# Points per frame above this make the file a problem: the real frames carry at most ~30 labels,
# and the cap bounds matching memory (points x labels pairs) whatever a file holds.
MAX_POINTS_PER_FRAME = 10_000
# Coordinates farther than this from the origin are refused: far outside any frame, and squared
# distances of such values overflow float64 (1e154 squared is inf), which would turn the RMSE
# into inf/NaN. Inside the bound every squared distance is exact enough and finite.
MAX_COORDINATE = 1e6
# Tree walks stop descending below this depth (the layout needs 4) and after this many entries.
MAX_TREE_DEPTH = 32
MAX_TREE_ENTRIES = 500_000
# All prediction files of one run together: past this many bytes, further files are refused.
MAX_TOTAL_BYTES = 4 * 1024**3


def has_image_suffix(name: str) -> bool:
    """Whether ``name`` is an image the contract covers.

    >>> has_image_suffix("000001.PNG"), has_image_suffix("scan.nii.gz"), has_image_suffix("a.gz")
    (True, True, False)
    """
    return name.lower().endswith(IMAGE_SUFFIXES)


def image_stem(name: str) -> str:
    """The file name without its image suffix (``.nii.gz`` counts as one suffix).

    >>> image_stem("000005.png"), image_stem("scan.nii.gz"), image_stem("notes.txt")
    ('000005', 'scan', 'notes.txt')
    """
    low = name.lower()
    for suffix in sorted(IMAGE_SUFFIXES, key=len, reverse=True):
        if low.endswith(suffix):
            return name[: -len(suffix)]
    return name
