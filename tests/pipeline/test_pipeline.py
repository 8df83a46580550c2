"""TransferPipeline: raw rows at predict time, persistence that refuses damaged or crafted
folders, and the model card."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest

from transferkit import DomainMismatchError, TransferWarning
from transferkit.pipeline import ModelFileError, TransferPipeline


@pytest.fixture(scope="module")
def fitted(markets):
    source, target, _ = markets
    return TransferPipeline("discriminative", random_state=0).fit(source, target)


def test_raw_rows_are_featurized_like_at_fit_time(fitted, markets):
    source, target, raw = markets
    from_frame = fitted.predict_proba(raw)
    harmonized = fitted.featurizer_.transform(fitted.featurizer_.rows_to_domain(raw))
    np.testing.assert_allclose(from_frame, fitted.method_.predict_proba(harmonized.X))


def test_predict_reads_csv_and_parquet_paths(fitted, markets, tmp_path):
    raw = markets[2]
    raw.to_csv(tmp_path / "rows.csv", index=False)
    raw.to_parquet(tmp_path / "rows.parquet")
    expected = fitted.predict(raw)
    np.testing.assert_array_equal(fitted.predict(tmp_path / "rows.csv"), expected)
    np.testing.assert_array_equal(fitted.predict(str(tmp_path / "rows.parquet")), expected)


def test_missing_column_is_named(fitted, markets):
    with pytest.raises(DomainMismatchError, match=r"lack columns \['visits'\]"):
        fitted.predict(markets[2].drop(columns=["visits"]))


def test_new_category_warns_and_maps_to_other(fitted, markets):
    raw = markets[2].copy()
    raw.loc[0, "channel"] = "kiosk"
    with pytest.warns(TransferWarning, match="kiosk"):
        fitted.predict(raw)


def test_junk_in_numeric_column_is_an_error_naming_it(fitted, markets):
    raw = markets[2].copy()
    raw["price"] = raw["price"].astype(object)
    raw.loc[3, "price"] = "n/a"
    with pytest.raises(ValueError, match="price"):
        fitted.predict(raw)


def test_extra_columns_are_ignored_with_a_warning(fitted, markets):
    raw = markets[2].assign(coupon=1)
    with pytest.warns(TransferWarning, match="coupon"):
        predicted = fitted.predict(raw)
    np.testing.assert_array_equal(predicted, fitted.predict(markets[2]))


def test_empty_file_is_refused_by_name(fitted, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(ValueError, match="empty.csv"):
        fitted.predict(path)


def test_save_refuses_an_existing_folder_and_keeps_it(fitted, tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "mine.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="overwrite"):
        fitted.save(folder)
    assert (folder / "mine.txt").read_text() == "keep me"
    fitted.save(folder, overwrite=True)
    assert not (folder / "mine.txt").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_truncated_or_missing_files_are_refused_by_name(fitted, tmp_path):
    folder = fitted.save(tmp_path / "model")
    data = (folder / "method.skops").read_bytes()
    (folder / "method.skops").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="method.skops.*truncated"):
        TransferPipeline.load(folder)
    (folder / "method.skops").unlink()
    with pytest.raises(ModelFileError, match="method.skops.*missing"):
        TransferPipeline.load(folder)
    with pytest.raises(ModelFileError, match="not a model folder"):
        TransferPipeline.load(tmp_path / "nowhere")


def _reseal(folder, name: str) -> None:
    """Record a file's new checksum, as an attacker who edits the manifest would."""
    from transferkit.pipeline.persist import file_digest

    manifest = json.loads((folder / "pipeline.json").read_text())
    manifest["files"][name] = file_digest(folder / name)
    (folder / "pipeline.json").write_text(json.dumps(manifest))


def test_crafted_skops_file_is_refused_and_runs_nothing(fitted, tmp_path):
    folder = fitted.save(tmp_path / "model")
    marker = tmp_path / "pwned"
    schema = {"__class__": "system", "__module__": "os", "__loader__": "FunctionNode",
              "content": {"module_path": "os", "function": "system"}}
    payload = {"__class__": "tuple", "__module__": "builtins", "__loader__": "ReduceNode",
               "__reduce__": {"func": schema,
                              "args": {"__class__": "tuple", "__module__": "builtins",
                                       "__loader__": "TupleNode",
                                       "content": [{"__class__": "str",
                                                    "__module__": "builtins",
                                                    "__loader__": "JsonNode",
                                                    "content": f'"touch {marker}"',
                                                    "is_json": True}]}},
               "protocol": 2, "_skops_version": "0.16.0"}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("schema.json", json.dumps(payload))
    (folder / "method.skops").write_bytes(buffer.getvalue())
    _reseal(folder, "method.skops")
    with pytest.raises(ModelFileError, match="does not trust|not a readable|could not"):
        TransferPipeline.load(folder)
    assert not marker.exists()


def test_json_header_naming_a_foreign_class_is_refused(markets, tmp_path):
    source, target, _ = markets
    pipeline = TransferPipeline("nn_source_only", random_state=0, method_params={
        "hidden_sizes": (4,), "train": {"epochs": 1, "progress": False}}).fit(source, target)
    folder = pipeline.save(tmp_path / "model")
    header = json.loads((folder / "method.json").read_text())
    header["class"] = "os:system"
    (folder / "method.json").write_text(json.dumps(header))
    _reseal(folder, "method.json")
    with pytest.raises(ModelFileError, match="only transferkit classes"):
        TransferPipeline.load(folder)


def test_newer_format_is_refused_clearly(fitted, tmp_path):
    folder = fitted.save(tmp_path / "model")
    manifest = json.loads((folder / "pipeline.json").read_text())
    manifest["format_version"] = 99
    (folder / "pipeline.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelFileError, match="format 99.*Upgrade"):
        TransferPipeline.load(folder)


def test_model_card_describes_markets_method_and_versions(fitted, tmp_path):
    folder = fitted.save(tmp_path / "model", card={"verdict": {
        "message": "Transfer helps.", "metric": "accuracy", "comparisons": [
            {"baseline": "source_only", "difference": 0.05, "low": 0.01, "high": 0.09}]}})
    card = json.loads((folder / "model_card.json").read_text())
    assert card["markets"]["source"] == {"name": "us", "rows": 300, "labelled": 300}
    assert card["markets"]["target"]["labelled"] == 40
    assert card["method"]["name"] == "discriminative"
    assert "scikit-learn" in card["versions"]
    text = (folder / "MODEL_CARD.md").read_text()
    assert "vs source_only: +0.050 [+0.010, +0.090]" in text
    assert "channel" in text


def test_regression_pipeline(tmp_path, markets):
    import pandas as pd

    from transferkit import Domain
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"size": rng.normal(size=120), "city": rng.choice(["a", "b"], 120)})
    frame["spend"] = 3 * frame["size"] + (frame["city"] == "a") + rng.normal(0, 0.1, 120)
    source = Domain.from_frame(frame.iloc[:80], label="spend", name="us")
    target = Domain.from_frame(frame.iloc[80:], label="spend", name="ca")
    pipeline = TransferPipeline("kmm").fit(source, target)
    raw = frame.iloc[80:].drop(columns=["spend"])
    assert pipeline.task_ == "regression"
    folder = pipeline.save(tmp_path / "model")
    np.testing.assert_array_equal(TransferPipeline.load(folder).predict(raw),
                                  pipeline.predict(raw))
    assert list(pipeline.predict_frame(raw).columns) == ["prediction"]


_SAVE_LOOP = """
import sys, numpy as np
from transferkit import Domain
from transferkit.pipeline import TransferPipeline
rng = np.random.default_rng(0)
X = rng.normal(size=(200, 3)); y = (X[:, 0] > 0).astype(int)
source, target = Domain.from_arrays(X, y, name="us"), Domain.from_arrays(X + 0.5, name="ca")
pipeline = TransferPipeline("discriminative").fit(source, target)
pipeline.save(sys.argv[1], overwrite=True)
print("saved", flush=True)
while True:
    pipeline.save(sys.argv[1], overwrite=True)
"""


@pytest.mark.parametrize("delay", [0.05, 0.4])
def test_kill_9_while_saving_leaves_a_loadable_model(tmp_path, delay):
    import signal
    import subprocess
    import sys
    import time

    folder = tmp_path / "model"
    process = subprocess.Popen([sys.executable, "-c", _SAVE_LOOP, str(folder)],
                               stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == "saved"
        time.sleep(delay)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    loaded = TransferPipeline.load(folder)  # the last complete save, never a mixture
    assert loaded.predict(np.zeros((2, 3))).shape == (2,)
