"""The demo's comparison: a figure and an accuracy table computed from the runs."""

import matplotlib.image
import pytest

from opt_utils.comparison import TITLES
from solutions import comparison


def test_short_comparison_writes_figure_and_table(tmp_path, capsys):
    runs = comparison.main(["--out", str(tmp_path), "--epochs", "201"])
    image = matplotlib.image.imread(tmp_path / "comparison.png")
    assert image.shape[:2] == (900, 1500)
    assert image[..., :3].std() > 0.1   # drawn, not blank
    table = (tmp_path / "accuracy.md").read_text()
    assert [run.optimizer for run in runs] == ["gd", "momentum", "adam"]
    for run in runs:
        assert f"| {TITLES[run.optimizer]} | {run.accuracy:.4f} | {run.correct} of 300 |" in table
        assert len(run.costs) == 3
    assert table in capsys.readouterr().out


def test_epochs_below_one_is_refused(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        comparison.main(["--out", str(tmp_path), "--epochs", "0"])
    assert stop.value.code == 2
    assert "--epochs must be at least 1, got 0" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())
