import pytest

from adaptor_baseline.synth import generate_dataset


@pytest.fixture(scope="session")
def synth_sim(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth_sim")
    generate_dataset(out, "sim", surgeries=3, videos=1, frames=4, seed=7, workers=1)
    return out
