"""Synthetic AdaptOR-like data: frames and labels in exactly the release's layout.

``style`` (what differs between domains) → ``plan`` (a surgery and its videos) → ``world`` (the
tissue canvas) → ``render`` (one frame) → ``annotate`` (the simulated annotator's labels) →
``generate`` (files, in parallel, and ``synth.json``: how they were made); ``presets`` holds the
shapes of A.1, A.2 and B.1, ``report`` the statistics that compare a dataset with the real ones
and ``lookalikes`` names what lies under a detector's false positives.
"""

from adaptor_baseline.synth.generate import generate_dataset
from adaptor_baseline.synth.plan import plan_surgery, plan_video
from adaptor_baseline.synth.style import STYLES

__all__ = ["STYLES", "generate_dataset", "plan_surgery", "plan_video"]
