"""scikit-learn's estimator checks on every registered reweighter.

Reweighters are fitted as ``fit(X, is_target)``; sklearn's checks send them a two-valued
``y`` because the weighters declare ``classifier_tags.multi_class = False``.
"""

from __future__ import annotations

from sklearn.utils.estimator_checks import parametrize_with_checks

from transferkit.reweight import REWEIGHTERS

# Small settings keep each check fast; the defaults are exercised in tests/reweight.
_FAST = {"kliep": {"n_centres": 20, "cv": 2}, "ulsif": {"n_centres": 20},
         "kmm": {"max_iter": 200}}

ESTIMATORS = [cls(**_FAST.get(name, {})) for name, cls in REWEIGHTERS.items()]

# Expected failures, with the reason. Empty when every applicable check passes.
EXPECTED_FAILED: dict[str, dict[str, str]] = {}


def test_every_reweighter_is_checked() -> None:
    assert len(ESTIMATORS) == len(REWEIGHTERS) >= 4


@parametrize_with_checks(
    ESTIMATORS,
    expected_failed_checks=lambda est: EXPECTED_FAILED.get(type(est).__name__, {}),
)
def test_sklearn_compatible(estimator, check) -> None:
    check(estimator)
