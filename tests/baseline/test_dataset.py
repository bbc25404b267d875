import torch

from adaptor_baseline.data.dataset import AdaptorFrames, frame_loader


def test_items_and_batches(synth_sim):
    ds = AdaptorFrames(synth_sim, size=(256, 144))
    item = ds[0]
    assert item["image"].shape == (3, 144, 256) and item["image"].dtype == torch.uint8
    assert item["scale"] == (0.5, 0.5) and item["size"] == (512, 288)
    batch = next(iter(frame_loader(ds, batch_size=3, shuffle=True, seed=1)))
    assert batch["image"].shape == (3, 3, 144, 256) and len(batch["points"]) == 3
    again = next(iter(frame_loader(ds, batch_size=3, shuffle=True, seed=1)))
    assert batch["key"] == again["key"]  # seeded shuffling
