"""Bad inputs and faults at the door: each is refused (or coerced with a warning) by one
clear message that names the problem, and no user file is changed.

Every bug of this kind found later adds a case here. Killing a run with SIGKILL and
resuming it to bit-identical weights is covered by
``tests/training/test_checkpoint.py::test_killed_run_resumes_to_the_uninterrupted_result``.
"""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from torch import nn

from transferkit import Domain
from transferkit._io import read_table
from transferkit._validation import check_fitted_model
from transferkit.backbones import encode, feature_cache_path
from transferkit.backbones._base import Backbone
from transferkit.cli.main import main
from transferkit.exceptions import TransferWarning
from transferkit.harmonize import Harmonizer, harmonize
from transferkit.training import (
    DivergenceError,
    NonFiniteLossError,
    StepOutput,
    TrainConfig,
    Trainer,
    latest_checkpoint,
)


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _market(n: int = 60, seed: int = 0, **extra: object) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"price": rng.normal(10, 2, n).round(2), "days": rng.normal(3, 1, n),
                          "channel": rng.choice(["web", "app"], n),
                          "bought": rng.integers(0, 2, n)})
    return frame.assign(**extra)


@pytest.fixture
def files(tmp_path: Path) -> Path:
    folder = tmp_path / "user"
    folder.mkdir()
    _market(seed=0).to_csv(folder / "us.csv", index=False)
    _market(seed=1).to_csv(folder / "jp.csv", index=False)
    junk = _market(seed=2).astype({"price": object})
    junk.loc[[3, 17, 40], "price"] = ["?", "n/a ", "?"]
    junk.to_csv(folder / "junk.csv", index=False)
    (folder / "dup.csv").write_text("price,price,bought\n1,2,0\n3,4,1\n")
    (folder / "empty.csv").write_bytes(b"")
    (folder / "binary.csv").write_bytes(bytes(range(256)) * 4)
    (folder / "broken.xlsx").write_bytes(b"PK\x03\x04 truncated")
    return folder


def gap(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(["gap", *argv, "--tests", "mmd"])
    return code, capsys.readouterr().err


# ---------------------------------------------------------------- junk in a numeric column
def test_junk_cells_in_a_numeric_column_are_refused_with_counts_and_examples(files):
    frame = read_table(files / "junk.csv")
    with pytest.raises(ValueError) as error:
        Domain.from_frame(frame, label="bought", name="junk")
    message = str(error.value)
    assert "column 'price' is numeric (57 of 60 filled cells are numbers)" in message
    assert "3 cells are not numbers: '?' x2, 'n/a ' x1" in message
    assert "3 rows (3, 17, 40)" in message and "bad_numeric='coerce'" in message


def test_junk_cells_coerced_by_option_warn_and_reach_the_harmonizer(files):
    frame = read_table(files / "junk.csv")
    with pytest.warns(TransferWarning, match=r"3 cells are not numbers.*read as missing"):
        junk = Domain.from_frame(frame, label="bought", name="junk", bad_numeric="coerce")
    assert junk.schema.numeric == ("price", "days")  # not a categorical with 57 levels
    assert junk.frame["price"].iloc[[3, 17, 40]].isna().all()
    assert junk.metadata.extra["coerced_cells"] == {"price": 3}
    us = Domain.from_frame(read_table(files / "us.csv"), label="bought", name="us")
    harmonizer = Harmonizer().fit(us, junk)
    assert {"column": "price", "action": "coerced",
            "reason": "3 non-numeric cells in target 'junk' read as missing"} \
        in harmonizer.changes_


# ---------------------------------------------------------------- overflowing values
@pytest.mark.parametrize("huge", [1e299, 1e308])
def test_huge_values_that_overflow_name_the_column(huge):
    source = Domain.from_frame(_market(seed=0), label="bought", name="us")
    frame = _market(seed=1)
    frame.loc[5, "days"] = huge
    target = Domain.from_frame(frame, label="bought", name="jp")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(ValueError, match=r"features \['days'\] of Domain 'jp' are not "
                           r"finite .* in 1 row \(5\): input column 'days' reaches"):
            harmonize(source, target)
        with pytest.raises(ValueError, match=r"Cannot standardise columns \['days'\]"):
            harmonize(target.with_task("binary"), source)


# ---------------------------------------------------------------- dropped / imputed columns
def test_empty_and_one_sided_columns_are_warned_and_listed_in_changes():
    source = Domain.from_frame(_market(seed=0, extra_col=1.0), label="bought", name="us")
    target = Domain.from_frame(_market(seed=1).assign(days=np.nan), label="bought",
                               name="jp")
    with pytest.warns(TransferWarning, match=r"\['days'\] are missing in every row of "
                                             r"target 'jp'"):
        harmonizer = Harmonizer().fit(source, target)
    actions = {(c["column"], c["action"]) for c in harmonizer.changes_}
    assert actions == {("extra_col", "dropped"), ("days", "imputed")}
    assert all(c["reason"] for c in harmonizer.changes_)


# ---------------------------------------------------------------- files at the door
@pytest.mark.parametrize(("name", "message"), [
    ("dup.csv", r"has duplicated column names \['price'\]"),
    ("empty.csv", "is empty"),
    ("binary.csv", "is not a text table: it holds binary data"),
    ("broken.xlsx", "Cannot read .* as Excel"),
    ("missing.csv", "No such file"),
])
def test_read_table_refuses_bad_files_naming_them(files, name, message):
    with pytest.raises((ValueError, FileNotFoundError), match=message) as error:
        read_table(files / name)
    assert name in str(error.value)


@pytest.mark.parametrize("name", ["dup.csv", "empty.csv", "binary.csv", "broken.xlsx"])
def test_cli_gap_gives_one_line_naming_the_file_and_changes_nothing(files, capsys, name):
    before = _digest(files)
    code, err = gap(capsys, "--source", str(files / "us.csv"), "--target", str(files / name))
    assert code == 2
    lines = [line for line in err.splitlines() if line and not line.startswith("[gap]")]
    assert len(lines) == 1 and name in lines[0] and "Traceback" not in err
    assert _digest(files) == before


def test_cli_gap_unknown_exclude_is_an_error_with_did_you_mean(files, capsys):
    before = _digest(files)
    code, err = gap(capsys, "--source", str(files / "us.csv"), "--target",
                    str(files / "jp.csv"), "--label", "bought", "--exclude", "prise")
    assert code == 2
    assert "--exclude names a column that does not exist: 'prise' (did you mean 'price'?)" \
        in err
    assert _digest(files) == before


def test_domain_from_frame_refuses_unusable_columns():
    frame = _market()
    with pytest.raises(ValueError, match=r"exclude= names a column .* 'dayz' \(did you mean "
                                         r"'days'\?\)"):
        Domain.from_frame(frame, label="bought", exclude=["dayz"])
    with pytest.raises(TypeError, match=r"column names must be strings; got 0 \(int\)"):
        Domain.from_frame(pd.DataFrame(np.zeros((3, 2))))
    with pytest.raises(ValueError, match="has no feature columns"):
        Domain.from_frame(frame, label="bought", exclude=["price", "days", "channel"])
    with pytest.raises(ValueError, match="no feature values per row"):
        Domain.from_arrays(np.zeros((4, 0)))
    with pytest.raises(ValueError, match="no label column 'bougt'. Did you mean 'bought'"):
        Domain.from_frame(frame, label="bougt")


# ---------------------------------------------------------------- models at our boundary
def test_unfitted_or_mis_sized_models_are_refused():
    with pytest.raises(ValueError, match="guard got an unfitted LogisticRegression"):
        check_fitted_model(LogisticRegression(), 3, "guard")
    model = LogisticRegression().fit(np.random.default_rng(0).normal(size=(20, 3)),
                                     np.arange(20) % 2)
    with pytest.raises(ValueError, match="fitted on 3 features but the data have 4"):
        check_fitted_model(model, 4, "guard")
    assert check_fitted_model(model, 3, "guard") is model


# ---------------------------------------------------------------- training faults
def _step(model, batch, context):
    X, y = batch.source
    return StepOutput(nn.functional.cross_entropy(model(X), y))


def _data():
    generator = torch.Generator().manual_seed(0)
    X = torch.randn(64, 4, generator=generator)
    return X, (X[:, 0] > 0).long()


def test_exploding_loss_stops_with_divergence_error():
    torch.manual_seed(0)
    trainer = Trainer(nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2)), _step,
                      config=TrainConfig(epochs=5, lr=1e8, batch_size=16, progress=False))
    with pytest.raises(DivergenceError, match="Lower the learning rate") as error:
        trainer.fit(_data())
    assert isinstance(error.value, NonFiniteLossError)
    assert "times the first step's" in str(error.value)


def test_corrupt_checkpoint_names_the_file(tmp_path):
    config = TrainConfig(epochs=2, batch_size=16, progress=False, checkpoint_dir=str(tmp_path))
    Trainer(nn.Linear(4, 2), _step, config=config).fit(_data())
    weights = Path(latest_checkpoint(tmp_path)) / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:40])
    with pytest.raises(ValueError, match=r"model.safetensors' is corrupt or truncated.*Delete"):
        Trainer(nn.Linear(4, 2), _step, config=config.replace(resume=True)).fit(_data())


def test_checkpoint_of_another_architecture_is_refused_before_loading(tmp_path):
    config = TrainConfig(epochs=1, batch_size=16, progress=False, checkpoint_dir=str(tmp_path))
    Trainer(nn.Linear(4, 2), _step, config=config).fit(_data())
    model = nn.Linear(4, 3)
    before = model.weight.detach().clone()
    with pytest.raises(ValueError, match=r"different model architecture: shapes differ for "
                                         r"'weight' \(saved \(2, 4\), this model \(3, 4\)\)"):
        Trainer(model, _step, config=config.replace(resume=True)).fit(_data())
    assert torch.equal(model.weight, before)


def test_two_methods_sharing_a_checkpoint_dir_keep_apart(tmp_path):
    def other_step(model, batch, context):
        return _step(model, batch, context)

    config = TrainConfig(epochs=1, batch_size=16, progress=False, checkpoint_dir=str(tmp_path))
    first = Trainer(nn.Linear(4, 2), _step, config=config).fit(_data())
    second = Trainer(nn.Linear(4, 2), other_step, config=config).fit(_data())
    assert first.checkpoint_folder_ != second.checkpoint_folder_
    assert len(list(tmp_path.iterdir())) == 2
    with pytest.raises(ValueError, match="holds checkpoints of 2 runs"):
        latest_checkpoint(tmp_path)


# ---------------------------------------------------------------- encoders
class _Lengths(Backbone):
    """A text backbone without weights: length and word count of each text."""

    modality = "text"

    def identity(self) -> str:
        return "lengths-v1"

    def preprocess(self, rows):
        return torch.tensor([[len(r), len(r.split())] for r in rows], dtype=torch.float32)

    def embed(self, batch, device):
        return batch.to(device)


def test_corrupt_feature_cache_is_deleted_and_recomputed(tmp_path):
    shop = Domain.from_texts(["good kettle", "broke fast", "fine"], [1, 0, 1], name="us")
    backbone = _Lengths("lengths")
    reference = encode(shop, backbone, cache_dir=tmp_path).X
    path = feature_cache_path(shop, backbone, tmp_path)
    path.write_bytes(path.read_bytes()[:60])
    with pytest.warns(TransferWarning, match="is corrupt or truncated .* computed again"):
        again = encode(shop, backbone, cache_dir=tmp_path).X
    np.testing.assert_array_equal(again, reference)
    assert encode(shop, backbone, cache_dir=tmp_path).X.shape == (3, 2)  # a healthy file again


def test_blank_texts_are_warned_with_their_count_or_refused():
    shop = Domain.from_texts(["good kettle", "  ", "", "fine"], [1, 0, 1, 0], name="us")
    with pytest.warns(TransferWarning, match=r"2 of 4 texts that are empty or only "
                                             r"whitespace \(2 rows \(1, 2\)\)"):
        encode(shop, _Lengths("lengths"))
    with pytest.raises(ValueError, match="2 of 4 texts"):
        encode(shop, _Lengths("lengths"), blank_texts="error")
