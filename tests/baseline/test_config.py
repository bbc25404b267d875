"""Configs are plain data: one table of settable fields, shared by the CLI and sweep files."""

import subprocess
import sys

import pytest
from click.testing import CliRunner

from adaptor_baseline.cli import main
from adaptor_baseline.config import FIELDS, TrainConfig, preset


def test_configs_sweeps_and_job_lists_import_no_framework():
    code = (
        "import sys\n"
        "import adaptor_baseline.config, adaptor_baseline.cv\n"
        "bad = [m for m in ('torch', 'kornia') if m in sys.modules]\n"
        "print(','.join(bad) or 'none')\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "none"


def test_every_leaf_field_is_settable_and_round_trips():
    paths = {f.path for f in FIELDS.values()}
    d = preset("variant1").to_dict()

    def leaves(node, prefix=""):
        for k, v in node.items():
            if isinstance(v, dict):
                yield from leaves(v, f"{prefix}{k}.")
            elif k != "name":
                yield prefix + k

    assert set(leaves(d)) == paths
    assert TrainConfig.from_dict(d) == preset("variant1")


def test_sweep_sets_any_field_and_options_beside_it_apply_to_all(tmp_path, synth_sim):
    sweep = tmp_path / "s.toml"
    sweep.write_text(
        '[[experiment]]\nname = "a"\nconfig = "variant1"\ndropout = 0.4\naug_contrast = [0.3, 1.5]\n'
        "binary_radius = 0\nthreshold = 0.4\n"
        '[[experiment]]\nname = "b"\nconfig = "variant2"\nepochs = 7\n'
    )
    from adaptor_baseline.sweep import load_sweep

    a, b = load_sweep(sweep, defaults={"epochs": 1, "width": 4})
    assert a.config.model.dropout == 0.4 and a.config.augment.contrast == (0.3, 1.5)
    assert a.config.target.binary_radius == 0 and a.config.target.threshold == 0.4
    assert (a.config.epochs, b.config.epochs) == (1, 7)  # the sweep's own value wins
    assert a.config.model.width == b.config.model.width == 4
    r = CliRunner().invoke(
        main,
        ["cv", "--data", str(synth_sim), "--out", str(tmp_path / "cv"), "--sweep", str(sweep),
         "--epochs", "1", "--width", "4", "--list-jobs"],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    jobs = r.output.strip().splitlines()
    assert len(jobs) == 6 and all(
        "--sweep" in j and "--epochs 1" in j and "--width 4" in j and "--tb" not in j for j in jobs
    )
    assert all(j.count("--sweep") == 1 for j in jobs)


@pytest.mark.parametrize(
    "text, needle",
    [
        ('[[experiment]]\nname = "a"\nsigma3 = 1\n', "unknown setting"),
        ('[[experiment]]\nname = "a"\n[[experiment]]\nname = "a"\n', "unique name"),
        ("experiment = 3\n", "must be an array"),
        ("[[experiment]\n", "Expected"),
        # the command line's ranges hold in sweep files too (config.BOUNDS)
        ('[[experiment]]\nname = "a"\ncrop_foreground = 1.5\n', "crop_foreground must be between"),
        ('[[experiment]]\nname = "a"\nbatch_size = 0\n', "batch_size must be at least 1"),
        ('[[experiment]]\nname = "a"\nseed = -1\n', "seed must be at least 0"),
        ('[[experiment]]\nname = "a"\nlr = nan\n', "lr must be a finite number"),
        ('[[experiment]]\nname = "a"\nsigma1 = inf\n', "sigma1 must be a finite number"),
    ],
)
def test_bad_sweeps_name_the_file(tmp_path, text, needle):
    from adaptor_baseline.sweep import load_sweep

    (tmp_path / "s.toml").write_text(text)
    with pytest.raises(ValueError, match=needle) as e:
        load_sweep(tmp_path / "s.toml")
    assert "s.toml" in str(e.value)


@pytest.mark.parametrize(
    "option, value",
    [("--crop-foreground", "1.5"), ("--crop-foreground", "-0.1"), ("--batch-size", "0")],
)
def test_out_of_range_options_are_refused(tmp_path, option, value):
    (tmp_path / "d").mkdir()
    args = ["train", "--data", str(tmp_path / "d"), "--out", str(tmp_path / "o"), option, value]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2 and option in result.output


def test_the_example_paper_sweep_loads():
    from pathlib import Path

    from adaptor_baseline.sweep import load_sweep

    sweep = Path(__file__).resolve().parents[2] / "examples" / "paper-sweep.toml"
    experiments = load_sweep(sweep, defaults={"epochs": 1})
    names = {e.name: e.config for e in experiments}
    assert (
        names["baseline-t7"].target.distribution == "tanh"
        and names["baseline-t7"].target.alpha == 7
    )
    assert names["v2-g2-s1"].model.variant == "variant2" and names["v2-g2-s1"].target.sigma1 == 2
    assert len(experiments) == 13  # the paper's whole grid: Table 1's nine and Table 2's four more
    assert all(e.config.epochs == 1 for e in experiments)


def test_the_demo_script_trains_the_demo_recipe(tmp_path, monkeypatch):
    """tools/demo.sh spells DEMO_RECIPE as command-line options; the two must not drift apart
    (the benchmark and the slow test measure DEMO_RECIPE, the README reports the demo)."""
    import shlex
    from pathlib import Path

    import adaptor_baseline.train as train_module
    from adaptor_baseline.config import config_diff, with_overrides
    from adaptor_baseline.recipes import DEMO_RECIPE

    script = (Path(__file__).parents[2] / "tools" / "demo.sh").read_text()
    joined = script.replace("\\\n", " ")
    line = next(x for x in joined.splitlines() if x.strip().startswith("adaptor-baseline train"))
    args = shlex.split(line.replace('"$EPOCHS"', "14").replace('"$OUT', '"' + str(tmp_path)))[2:]
    (tmp_path / "train").mkdir()
    seen = {}
    monkeypatch.setattr(train_module, "train", lambda cfg, *a, **k: seen.setdefault("cfg", cfg))
    result = CliRunner().invoke(main, ["train", *args])
    assert result.exit_code == 0, result.output
    expected = with_overrides(preset("variant1"), **DEMO_RECIPE)
    assert config_diff(seen["cfg"], expected) == []


def test_the_demo_script_generates_the_demo_data():
    """tools/demo.sh's training and held-out sets are recipes.DEMO_DATA (what the seed benchmark
    measured and the README's band is about)."""
    import re
    from pathlib import Path

    from adaptor_baseline.recipes import DEMO_DATA

    script = (Path(__file__).parents[2] / "tools" / "demo.sh").read_text()
    for name, shape in DEMO_DATA.items():
        line = next(x for x in script.splitlines() if re.search(rf'synth "\$OUT/{name}"', x))
        spelled = dict(re.findall(r"--(surgeries|videos|frames|seed) (\d+)", line))
        assert {k: int(v) for k, v in spelled.items()} == shape, (name, line)
        assert "--domain sim" in line


def test_learning_settings_are_the_demo_recipe_without_the_grid_variables():
    from adaptor_baseline.config import FIELDS
    from adaptor_baseline.recipes import DEMO_RECIPE, learning_settings

    settings = learning_settings()
    assert "sigma1" not in settings and "sigma2" not in settings and "seed" not in settings
    assert {FIELDS[k].path for k in settings} == set(DEMO_RECIPE) - {
        "target.sigma1",
        "model.sigma2",
        "seed",
    }
