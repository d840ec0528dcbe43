"""The pinned moons file is what the recipe draws, byte for byte, and load_dataset reads it back."""

import hashlib
import importlib.util
import re
from pathlib import Path

import numpy as np
import pytest

import published_values as published
from opt_utils.data import MOONS_FILE, load_dataset, write_dataset

DATASETS = Path(__file__).resolve().parent.parent / "datasets"


def recipe():
    spec = importlib.util.spec_from_file_location("make_moons", DATASETS / "make_moons.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_file_has_the_checksum_in_the_note():
    note = (DATASETS / "README.md").read_text()
    noted = re.search(r"SHA-256: `([0-9a-f]{64})`", note).group(1)
    assert hashlib.sha256(MOONS_FILE.read_bytes()).hexdigest() == noted


def test_installed_scikit_learn_regenerates_the_file_exactly(tmp_path):
    X, Y = recipe().generate_moons()
    stored_X, stored_Y = load_dataset()
    np.testing.assert_array_equal(X, stored_X)
    np.testing.assert_array_equal(Y, stored_Y)
    write_dataset(X, Y, tmp_path / "moons.csv")
    assert (tmp_path / "moons.csv").read_bytes() == MOONS_FILE.read_bytes()


def test_loaded_set_has_the_published_shape_and_values():
    X, Y = load_dataset()
    assert X.shape == (2, 300) and X.dtype == np.float64
    assert Y.shape == (1, 300) and Y.dtype == np.int64
    assert (Y == 1).sum() == 150 and (Y == 0).sum() == 150
    np.testing.assert_allclose(X[:, :3], published.MOONS_FIRST_COLUMNS, atol=5e-9)
    assert Y[0, :10].tolist() == published.MOONS_FIRST_LABELS


def test_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="moons data file not found: .*nowhere.csv"):
        load_dataset(tmp_path / "nowhere.csv")


def test_file_with_another_header_is_rejected(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,c\n1,2,0\n")
    with pytest.raises(ValueError, match="header must be x1,x2,label, got a,b,c"):
        load_dataset(bad)


def test_file_with_labels_other_than_0_and_1_is_rejected(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("x1,x2,label\n1.0,2.0,0\n1.5,2.5,3\n")
    with pytest.raises(ValueError, match="labels must be 0 or 1"):
        load_dataset(bad)
