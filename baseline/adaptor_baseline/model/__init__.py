"""The paper's model: U-Net, differentiable Gaussian layer, convolutional soft-argmax."""

from adaptor_baseline.model.detector import SutureDetector
from adaptor_baseline.model.layers import (
    GaussianLayer,
    SoftArgmaxLayer,
    conv_soft_argmax_map,
    gaussian_layer,
)
from adaptor_baseline.model.losses import dice_loss, fbeta_loss, heatmap_loss, soft_dice, soft_fbeta
from adaptor_baseline.model.unet import UNet

__all__ = [
    "GaussianLayer",
    "SoftArgmaxLayer",
    "SutureDetector",
    "UNet",
    "conv_soft_argmax_map",
    "dice_loss",
    "fbeta_loss",
    "gaussian_layer",
    "heatmap_loss",
    "soft_dice",
    "soft_fbeta",
]
