"""The one-command benchmark's machinery: isolation, worker rows, scoring, rendering."""

from __future__ import annotations

import json
import sys
import textwrap

import numpy as np
import pytest

from benchmarks import run
from benchmarks.suite import contract, isolate, render

ADAPTER = textwrap.dedent('''
    import time
    import numpy as np
    METHODS = {"uda": ("constant", "slow", "hungry", "broken")}

    def versions():
        return {"fake": "1.0"}

    def predict(method, split, seed, params):
        if method == "slow":
            time.sleep(60)
        if method == "hungry":
            blocks = [np.ones(2**27) for _ in range(8)]  # 8 GB, allocated for real
            time.sleep(60)
        if method == "broken":
            raise RuntimeError("the library crashed")
        return np.zeros(split.X_target.shape[0], dtype=int), {"note": "seen"}
''')


@pytest.fixture
def fake(tmp_path):
    (tmp_path / "fakelib").mkdir()
    (tmp_path / "fakelib" / "__init__.py").write_text("")
    (tmp_path / "fakelib" / "adapter.py").write_text(ADAPTER)
    split = contract.Split("classification", np.zeros((6, 2)), np.array([0, 1] * 3),
                           np.ones((4, 2)), np.array([0, 0, 1, 0]), np.zeros(4, bool))
    contract.save_split(str(tmp_path / "split.npz"), split)
    return tmp_path


def _spec(fake, method, seeds=(0,)):
    return {"kind": "predict", "library": "fakelib.adapter", "method": method,
            "items": [{"id": "pair", "seed": s, "path": str(fake / "split.npz")}
                      for s in seeds]}


def test_rows_carry_score_losses_notes_and_versions(fake):
    rows = isolate.run_job(sys.executable, _spec(fake, "constant", seeds=(0, 1)),
                           timeout_s=60, pythonpath=(str(fake),))
    assert [r["status"] for r in rows] == ["ok", "ok"]
    assert rows[0]["score"] == 0.75 and rows[0]["note"] == "seen"
    assert rows[0]["versions"] == {"fake": "1.0"}
    assert contract.decode_losses(rows[0]["losses"]).tolist() == [0, 0, 1, 0]


def test_an_exception_is_an_error_row_not_a_crash(fake):
    rows = isolate.run_job(sys.executable, _spec(fake, "broken"), timeout_s=60,
                           pythonpath=(str(fake),))
    assert rows[0]["status"] == "error"
    assert "RuntimeError: the library crashed" in rows[0]["error"]


def test_timeout_kills_the_job_and_names_the_limit(fake):
    rows = isolate.run_job(sys.executable, _spec(fake, "slow", seeds=(0, 1)), timeout_s=3,
                           pythonpath=(str(fake),))
    assert [r["status"] for r in rows] == ["error", "error"]
    assert "3 s limit" in rows[0]["error"]


def test_memory_cap_kills_the_job(fake):
    rows = isolate.run_job(sys.executable, _spec(fake, "hungry"), timeout_s=60,
                           memory_cap_mb=400, pythonpath=(str(fake),))
    assert rows[0]["status"] == "error" and "400 MB cap" in rows[0]["error"]


def test_regression_scores_are_rmse_on_the_hidden_rows_only():
    split = contract.Split("regression", np.zeros((3, 1)), np.zeros(3), np.zeros((3, 1)),
                           np.array([10.0, 1.0, 3.0]), np.array([True, False, False]))
    assert np.isnan(split.y_target_train[1]) and split.y_target_train[0] == 10.0
    metric, value = contract.score(split, np.array([0.0, 1.0, 0.0]))
    assert metric == "rmse" and value == pytest.approx(np.sqrt(4.5))
    with pytest.raises(ValueError, match="one prediction per target row"):
        contract.score(split, np.zeros(2))


def test_paired_difference_sees_a_small_consistent_gain():
    rng = np.random.default_rng(0)
    worse = (rng.random(2000) < 0.30).astype(float)
    better = worse.copy()
    better[np.flatnonzero(worse)[:60]] = 0  # fixes 60 of the errors, breaks none
    point, low, high = render.paired_difference(better, worse)
    assert point == pytest.approx(0.03) and low > 0
    point, low, high = render.paired_difference(worse, worse)
    assert point == 0 and low == high == 0


def test_quick_gap_track_of_ours_writes_the_section(tmp_path):
    status = run.main(["--quick", "--tracks", "gap", "--libraries", "ours",
                       "--out", str(tmp_path)])
    assert status == 0
    text = (tmp_path / "suite.md").read_text()
    assert "Gap report vs drift libraries" in text and "| transferkit | 10,000 |" in text
    rows = [json.loads(line) for line in (tmp_path / "rows.jsonl").read_text().splitlines()]
    assert rows[0]["run"]["commit"] and rows[0]["status"] == "ok"
    # A second call resumes: nothing left to run, the same section.
    assert run.main(["--quick", "--tracks", "gap", "--libraries", "ours",
                     "--out", str(tmp_path)]) == 0
    assert len((tmp_path / "rows.jsonl").read_text().splitlines()) == 1


def test_a_missing_peer_environment_fails_the_quick_run(tmp_path, monkeypatch):
    monkeypatch.setattr(run.envs, "PEERS_DIR", tmp_path / "no-peers")
    assert run.main(["--quick", "--tracks", "gap", "--require-peers", "--libraries",
                     "evidently", "--out", str(tmp_path)]) == 2


def _row(library, method, item, seed, errors, **extra):
    losses = np.zeros(100, dtype=np.float32)
    losses[:errors] = 1
    return {"track": "uda", "library": library, "method": method, "item": item, "seed": seed,
            "status": "ok", "metric": "accuracy", "score": 1 - errors / 100, "wall_s": 1.0,
            "peak_rss_mb": 100.0, "losses": contract.encode_losses(losses), **extra}


def test_the_uda_table_ranks_methods_and_checks_the_goals():
    rows = [_row(library, method, item, seed, errors)
            for item in ("amazon:a->b", "office:c->d") for seed in (0, 1)
            for library, method, errors in (("ours", "served", 10), ("ours", "source_only", 30),
                                            ("skada", "dann", 20))]
    lines, facts = render.prediction_table(rows, "uda")
    table = "\n".join(lines)
    assert table.index("**transferkit served**") < table.index("SKADA dann")
    assert "| **transferkit served** | 90.0 ± 0.0 | 90.0 ± 0.0 | 90.0 |" in table
    goals = "\n".join(render.uda_goals(facts, rows))
    assert "best peer method (SKADA dann) 80.0: +10.0 points" in goals and "**met**" in goals
    assert "significantly below on 0 of 2 pairs" in goals


def test_by_pair_splits_jobs_so_pairs_finish_one_after_another():
    from benchmarks.suite.tracks import Job

    items = tuple({"id": pair, "seed": seed} for pair in ("a", "b") for seed in (0, 1))
    jobs = [Job("uda", "ours", method, "predict", items, timeout_s=400) for method in "xy"]
    split = run._by_pair(jobs)
    assert [(j.method, j.items[0]["id"], len(j.items)) for j in split] == [
        ("x", "a", 2), ("y", "a", 2), ("x", "b", 2), ("y", "b", 2)]
    assert split[0].timeout_s == 200


def test_consensus_rule_takes_the_best_mean_rank():
    from benchmarks.suite.libs.ours import _consensus

    scores = {"a": {"x": 3.0, "y": 2.0, "z": 1.0},   # x > y > z
              "b": {"x": 1.0, "y": 3.0, "z": 2.0},   # y > z > x
              "c": {"x": None, "y": 2.0, "z": 3.0}}  # unreliable x ranks last
    assert _consensus(scores, ["x", "y", "z"]) == "y"
    assert _consensus(scores, ["x", "z"]) == "z"


def test_choice_table_compares_every_rule_with_domain_auc():
    def item(auc, iwcv):
        picks = {"domain_auc": ["m", auc], "iwcv": ["n", iwcv]}
        return {"track": "uda", "status": "ok", "method": "choice_study",
                "picks": {"recipe": picks}, "pools": {"recipe": ["m", "n"]},
                "candidates": {"m": auc, "n": iwcv}}

    rows = [item(0.5, 0.6), item(0.7, 0.8), item(0.4, 0.5)]
    text = "\n".join(render.choice_table(rows))
    assert "| recipe | 53.3 | 63.3 | 63.3 | 58.3 |" in text
    assert "iwcv +10.0 (+10.0 to +10.0)" in text
