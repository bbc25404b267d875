import pytest
import torch

from adaptor_baseline.config import ModelConfig
from adaptor_baseline.model import SutureDetector, UNet
from adaptor_baseline.model.layers import conv_soft_argmax_map, gaussian_layer
from adaptor_baseline.model.losses import dice_loss, fbeta_loss, heatmap_loss, soft_dice, soft_fbeta


@pytest.mark.parametrize("variant", ["baseline", "variant1", "variant2"])
def test_shapes_and_gradients_flow_through_every_stage(variant):
    torch.manual_seed(0)
    net = SutureDetector(ModelConfig(variant=variant, width=4, depth=2))
    x = torch.rand(2, 3, 36, 52)
    out = net(x)
    for k, v in out.items():
        assert v.shape == (2, 1, 36, 52), k
        assert 0 <= float(v.detach().min()) and float(v.detach().max()) <= 1
    heat = torch.zeros(2, 1, 36, 52)
    heat[:, :, 10, 10] = 1
    loss, parts = net.loss(out, heat, (heat > 0.5).float())
    loss.backward()
    grads = [p.grad for p in net.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert net.unet.inc[0].weight.grad.abs().sum() > 0  # reaches the first layer
    if variant != "baseline":
        assert set(parts) == {"loss", "stage1", "stage2"}
        # stage 2's loss alone still reaches the U-Net through the soft-argmax and Gaussian layer
        net.zero_grad()
        out = net(x)
        (fbeta_loss if variant == "variant2" else heatmap_loss)(out["stage2"], heat).backward()
        assert net.unet.head.weight.grad.abs().sum() > 0


def test_unet_odd_sizes():
    assert UNet(width=2, depth=3)(torch.rand(1, 3, 37, 51)).shape == (1, 1, 37, 51)


def test_dice_and_heatmap_loss_known_values():
    t = torch.zeros(1, 1, 2, 2)
    t[0, 0, 0, 0] = 1
    p = torch.full((1, 1, 2, 2), 0.5)
    # Dice = 2 * 0.5 / (2 + 1) = 1/3 with eps = 0; MSE = (0.25 + 3 * 0.25) / 4 = 0.25
    assert float(soft_dice(p, t, eps=0)) == pytest.approx(1 / 3)
    assert float(dice_loss(p, t, eps=0)) == pytest.approx(2 / 3)
    assert float(heatmap_loss(p, t, eps=0)) == pytest.approx(0.25 + 2 / 3)
    empty = torch.zeros(1, 1, 2, 2)
    assert float(dice_loss(empty, empty)) == 0.0  # eps makes empty-vs-empty perfect


def test_fbeta_known_value_and_direction():
    t = torch.tensor([[[[1.0, 1.0, 0.0, 0.0]]]])
    p = torch.tensor([[[[1.0, 0.0, 1.0, 0.0]]]])
    # TP 1, FN 1, FP 1, beta 2: 5 / (5 + 4 + 1)
    assert float(soft_fbeta(p, t, 2.0, eps=0)) == pytest.approx(0.5)
    # beta 2 weighs misses more than false alarms
    miss = torch.tensor([[[[1.0, 0.0, 0.0, 0.0]]]])
    alarm = torch.tensor([[[[1.0, 1.0, 1.0, 0.0]]]])
    assert float(soft_fbeta(miss, t, 2.0, eps=0)) < float(soft_fbeta(alarm, t, 2.0, eps=0))
    # minimising the loss maximises F_beta (the published code did the opposite)
    logits = torch.zeros(1, 1, 1, 4, requires_grad=True)
    before = float(soft_fbeta(torch.sigmoid(logits), t).detach())
    fbeta_loss(torch.sigmoid(logits), t).backward()
    with torch.no_grad():
        logits -= 1.0 * logits.grad
    assert float(soft_fbeta(torch.sigmoid(logits), t).detach()) > before


def test_gaussian_layer_authors_3x3_reflect_and_the_growing_option():
    x = torch.zeros(1, 1, 21, 21)
    x[0, 0, 10, 10] = 1
    authors = gaussian_layer(x, 2.0)  # 3 x 3: nearly a box at sigma 2
    assert float(authors.sum()) == pytest.approx(1.0, abs=1e-5)
    assert (authors[0, 0] > 0).sum() == 9 and float(authors.max()) == pytest.approx(
        0.1308, abs=1e-3
    )
    wide = gaussian_layer(x, 2.0, size=0, border="constant")  # 13 x 13
    assert float(wide.sum()) == pytest.approx(1.0, abs=1e-5) and float(wide.max()) < 0.05
    flat = torch.full((1, 1, 6, 6), 0.8)  # reflected borders leave a flat map flat; zeros darken
    assert torch.allclose(gaussian_layer(flat, 1.0), flat)
    assert float(gaussian_layer(flat, 1.0, border="constant")[0, 0, 0, 0]) < 0.5


def _noisy_heatmap():
    import numpy as np

    from adaptor_baseline.codec import render_heatmap

    rng = np.random.default_rng(0)
    heat = render_heatmap(rng.uniform(5, 59, (6, 2)), (64, 64), sigma=2.0)
    return torch.from_numpy(
        np.clip(heat + rng.normal(0, 0.05, heat.shape), 0, 1).astype("float32")
    )[None, None]


def test_soft_argmax_at_temperature_one_is_nearly_a_mean_filter():
    x = _noisy_heatmap()
    mean = torch.nn.functional.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)
    maxp = torch.nn.functional.max_pool2d(x, 3, stride=1, padding=1)
    scale = float((x - mean).abs().mean())
    value = conv_soft_argmax_map(x, 1.0, "value")
    assert float((value - mean).abs().mean()) / scale < 0.2
    assert float((value - maxp).abs().mean()) / scale > 1.0
    cold = conv_soft_argmax_map(x, 0.01, "value")  # low temperature: max pooling, no suppression
    assert float((cold - maxp).abs().mean()) / scale < 0.3


def test_value_layer_fills_the_valley_between_close_peaks_and_suppress_deepens_it():
    import numpy as np

    from adaptor_baseline.codec import render_heatmap

    pair = torch.from_numpy(
        render_heatmap(np.array([[17.0, 20.0], [23.0, 20.0]]), (40, 40), sigma=1.5, combine="max")
    )[None, None]

    def valley(y):
        return float(y[0, 0, 20, 20]) / float(y[0, 0, 20, 17])

    assert valley(conv_soft_argmax_map(pair, 1.0, "value")) > 2 * valley(pair)
    assert valley(conv_soft_argmax_map(pair, 0.1, "suppress")) < 0.1 * valley(pair)


def test_suppress_mode_keeps_maxima_and_damps_the_rest():
    x = torch.zeros(1, 1, 5, 5)
    x[0, 0, 2, 2] = 0.9
    x[0, 0, 2, 3] = 0.7
    y = conv_soft_argmax_map(x, 0.05, "suppress")
    assert float(y[0, 0, 2, 2]) == pytest.approx(0.9)
    assert float(y[0, 0, 2, 3]) < 0.7 * 0.02
    with pytest.raises(ValueError):
        conv_soft_argmax_map(x, 1.0, "other")


@pytest.mark.parametrize("name", ["baseline", "variant1", "variant2"])
def test_presets_build_the_authors_network_size(name):
    """The authors' published U-Net: 1.082 M parameters, 11.34 GFLOP per 288 x 512 frame."""
    from torch.utils.flop_counter import FlopCounterMode

    from adaptor_baseline.config import preset
    from adaptor_baseline.model import SutureDetector

    net = SutureDetector(preset(name).model).eval()
    params = sum(p.numel() for p in net.parameters())
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        net(torch.zeros(1, 3, 288, 512))
    assert params == 1_082_033
    assert counter.get_total_flops() == pytest.approx(11.34e9, rel=0.05)


def test_the_earlier_symmetric_network_size():
    """``architecture = "symmetric"``, the network of the earlier measurements (docs quote it):
    1.96 M parameters, 15.8 GFLOP per 288 x 512 frame."""
    import dataclasses

    from torch.utils.flop_counter import FlopCounterMode

    from adaptor_baseline.config import preset
    from adaptor_baseline.model import SutureDetector

    model = dataclasses.replace(preset("variant1").model, architecture="symmetric")
    net = SutureDetector(model).eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        net(torch.zeros(1, 3, 288, 512))
    assert sum(p.numel() for p in net.parameters()) == pytest.approx(1.96e6, rel=0.005)
    assert counter.get_total_flops() == pytest.approx(15.8e9, rel=0.005)


def test_authors_blocks_and_dropout_schedule():
    from adaptor_baseline.model.unet import UNet

    net = UNet()
    rates = [m.p for m in net.modules() if isinstance(m, torch.nn.Dropout)]
    assert rates == [0.3, 0.37, 0.43, 0.5, 0.4, 0.5, 0.43, 0.37, 0.3]
    first = list(net.inc)
    kinds = [type(m).__name__ for m in first]
    assert kinds == ["Conv2d", "ReLU", "BatchNorm2d", "Dropout", "Conv2d", "ReLU", "BatchNorm2d"]
    assert float(net.head.bias.detach()) == 0.0  # no prior unless asked
    assert float(UNet(head_prior=-4.0).head.bias.detach()) == -4.0
    symmetric = UNet(architecture="symmetric")
    assert sum(p.numel() for p in symmetric.parameters()) == pytest.approx(1.964e6, rel=0.01)


def test_freed_activations_are_reused_not_faulted_in_again():
    """After ``reuse_freed_memory`` the eager forward of the authors' network at 288 x 512 gets
    its activations (9-19 MB blocks) back without page faults, frame after frame; a plain process
    took 17,140 per frame in bench_predict.py. Run in a process of its own: the setting is
    process-wide."""
    import subprocess
    import sys

    code = (
        "import resource, torch\n"
        "from adaptor_baseline.config import preset\n"
        "from adaptor_baseline.inference import reuse_freed_memory\n"
        "from adaptor_baseline.model import SutureDetector\n"
        "ok = reuse_freed_memory()\n"
        "torch.manual_seed(0)\n"
        "net, x = SutureDetector(preset('variant1').model).eval(), torch.rand(1, 3, 288, 512)\n"
        "with torch.inference_mode():\n"
        "    net(x), net(x)\n"
        "    f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt\n"
        "    for _ in range(3):\n"
        "        net(x)\n"
        "print(ok, (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0) / 3)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    ok, per_frame = out.stdout.split()
    if ok != "True":
        pytest.skip("not glibc: the allocator is left as it is")
    # fewer than one 9.4 MB activation's 2,300 pages of 4 KB per frame (measured here: 0-700,
    # the rest from the threads' own arenas); a plain process: 10,700-11,500
    assert float(per_frame) < 2_000


@pytest.mark.parametrize("channels_last", [True, False])
def test_inference_fn_leaves_the_callers_module_as_it_was(channels_last):
    """Channels-last weights and eval mode go to a copy: the caller's module, still training,
    keeps contiguous weights that it can go on training with, bit for bit."""
    from adaptor_baseline.config import ModelConfig
    from adaptor_baseline.inference import inference_fn
    from adaptor_baseline.model import SutureDetector

    torch.manual_seed(0)
    net = SutureDetector(ModelConfig(width=4, depth=2)).train()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    run = inference_fn(net, torch.device("cpu"), (64, 36), channels_last=channels_last)
    with torch.inference_mode():
        run(torch.rand(1, 3, 36, 64))
    assert net.training and all(m.training for m in net.modules())
    for name, p in net.named_parameters():
        if p.dim() == 4:
            assert p.is_contiguous(), name  # not turned channels-last behind the caller's back
    after = net.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_inference_fn_gives_the_eager_outputs_and_survives_without_torchscript(monkeypatch):
    from adaptor_baseline.config import ModelConfig
    from adaptor_baseline.inference import inference_fn
    from adaptor_baseline.model import SutureDetector

    torch.manual_seed(0)
    net = SutureDetector(ModelConfig(width=4, depth=2)).eval()
    x = torch.rand(2, 3, 36, 64)
    with torch.inference_mode():
        eager = net(x)["output"]
        frozen = inference_fn(net, torch.device("cpu"), (64, 36))(x)
    assert float((frozen - eager).abs().max()) < 1e-5

    def broken(*a, **k):
        raise RuntimeError("no TorchScript here")

    monkeypatch.setattr(torch.jit, "trace", broken)
    with pytest.warns(UserWarning, match="without a frozen graph"):
        run = inference_fn(net, torch.device("cpu"), (64, 36))
    with torch.inference_mode():
        assert float((run(x) - eager).abs().max()) < 1e-5
