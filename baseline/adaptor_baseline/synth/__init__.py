"""Synthetic AdaptOR-like data: frames and labels in exactly the release's layout."""

from adaptor_baseline.synth.generate import generate_dataset
from adaptor_baseline.synth.scene import STYLES, plan_video, render_frame

__all__ = ["STYLES", "generate_dataset", "plan_video", "render_frame"]
