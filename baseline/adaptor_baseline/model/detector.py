"""The full detector: U-Net -> sigmoid [-> Gaussian layer -> soft-argmax], and its loss."""

from __future__ import annotations

import torch
from torch import nn

from adaptor_baseline.config import ModelConfig
from adaptor_baseline.model.layers import GaussianLayer, SoftArgmaxLayer
from adaptor_baseline.model.losses import fbeta_loss, heatmap_loss
from adaptor_baseline.model.unet import UNet

# Images are scaled to [0, 1] and, with input_scaling "centred" (the default), then centred;
# "raw" feeds [0, 1] as the authors do. The two are not interchangeable: batch norm follows the
# first convolution's ReLU, so it cannot undo a change of input scale (docs/baseline.md).
MEAN, STD = 0.5, 0.25


class SutureDetector(nn.Module):
    """The paper's model in its three configurations.

    ``forward`` takes ``(B, 3, H, W)`` float images in [0, 1] and returns a dict of
    ``(B, 1, H, W)`` maps in [0, 1]: ``stage0`` (sigmoid of the U-Net), and for the variants
    ``stage1`` (after the Gaussian layer) and ``stage2`` (after the soft-argmax); ``output`` is
    the map that is thresholded into points.

    Example:
        >>> net = SutureDetector(ModelConfig(variant="variant1", width=4, depth=2))
        >>> out = net(torch.rand(2, 3, 32, 48))
        >>> sorted(out), tuple(out["output"].shape)
        (['output', 'stage0', 'stage1', 'stage2'], (2, 1, 32, 48))
    """

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.unet = UNet(3, cfg.width, cfg.depth, cfg.dropout, cfg.architecture, cfg.head_prior)
        if cfg.variant != "baseline":
            self.gaussian = GaussianLayer(cfg.sigma2, cfg.gaussian_size, cfg.gaussian_border)
            self.softargmax = SoftArgmaxLayer(cfg.temperature, cfg.softargmax_mode)

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        x = images if self.cfg.input_scaling == "raw" else (images - MEAN) / STD
        prob = torch.sigmoid(self.unet(x))
        if self.cfg.variant == "baseline":
            return {"stage0": prob, "output": prob}
        s1 = self.gaussian(prob)
        s2 = self.softargmax(s1)
        return {"stage0": prob, "stage1": s1, "stage2": s2, "output": s2}

    def loss(
        self,
        out: dict[str, torch.Tensor],
        heatmap: torch.Tensor,
        binary: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Total loss and its parts: baseline ``L(stage0)``; Variant 1 ``L(stage1) + L(stage2)``
        with ``L = MSE + 1 - Dice``; Variant 2 ``L(stage1) + 1 - F_beta(stage2, binary)``.

        The parts are detached tensors on the loss's device: reading them (``float()``) waits
        for the device, so the training loop never does it per step."""
        out = {k: v.float() for k, v in out.items()}
        over = self.cfg.loss_over
        if self.cfg.variant == "baseline":
            total = heatmap_loss(out["stage0"], heatmap, over=over)
            return total, {"loss": total.detach()}
        l1 = heatmap_loss(out["stage1"], heatmap, over=over)
        if self.cfg.variant == "variant1":
            l2 = heatmap_loss(out["stage2"], heatmap, over=over)
        else:
            if binary is None:
                raise ValueError("variant2 needs binary mask targets")
            l2 = fbeta_loss(out["stage2"], binary, over=over)
        total = l1 + l2
        return total, {"loss": total.detach(), "stage1": l1.detach(), "stage2": l2.detach()}
