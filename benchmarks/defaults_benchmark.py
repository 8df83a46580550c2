"""Default-selection benchmark (issue 18): is each default as good as the best fixed setting?

Parts, each appending one JSON line per run to ``--out`` so partial runs stay usable:

- ``kmm``: logistic regression on KMM-weighted source rows, target accuracy, for the new
  default (width and ridge chosen inside ``fit``), the former default (median width,
  ``reg=1e-2``), the peers' setting (``gamma=1/d``, ``reg=0``, as skada / ADAPT) and every
  fixed setting of the selection grid; seeds draw 80 % of the source rows.
- ``align``: DANN / CDAN / MMD at several ``trade_off`` values beside the source-only
  network (same network, budget and seeds).
- ``warnings``: every reweighter on every set: does its low-ESS warning fire, and is the
  weighted model worse than the unweighted one? (precision of the warning).

Sets: synthetic covariate shift (pure: the labelling rule is the same in both markets),
Stack Overflow United States -> Canada (bundled), Amazon-400 books -> kitchen,
Office-Caltech SURF amazon -> webcam, MNIST -> USPS (``../shared/data``). Held-out pairs,
not looked at when the defaults were chosen, check the choice: USPS -> MNIST, Amazon-400
dvd -> electronics, Office-Caltech SURF caltech10 -> amazon, Online Retail United Kingdom ->
Germany (RFM features, 2,361 -> 63 customers: its target accuracy is coarse).

Usage::

    OMP_NUM_THREADS=1 flock /tmp/transferkit-bench.lock nice -n 5 .venv/bin/python \\
        benchmarks/defaults_benchmark.py --part kmm --sets synthetic stackoverflow ...
    .venv/bin/python benchmarks/defaults_benchmark.py --render
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import ttest_rel
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from transferkit import Domain
from transferkit.exceptions import TransferWarning

HERE = Path(__file__).parent
OUT = HERE / "defaults_results.jsonl"
#: Sets the defaults were chosen on, and pairs kept out of that choice to check it.
CHOICE_SETS = ("synthetic", "stackoverflow", "amazon", "office", "digits")
HELD_OUT_SETS = ("digits_reverse", "amazon_dvd", "office_caltech", "retail")
SETS = CHOICE_SETS + HELD_OUT_SETS
SEEDS = (0, 1, 2)
# The reweighters' low-ESS warning (transferkit.reweight.diagnostics), for the rule table.
LOW_FRACTION, LOW_ROWS = 0.10, 50
AUTO = "default (auto)"
# Rows of the first auto rule (near-ties within 5 % of the lowest criterion), kept for the table.
FORMER_AUTO = "auto, former tie rule"


# ----------------------------------------------------------------------------- data
def synthetic(seed: int = 0, n: int = 2000, d: int = 10) -> tuple[Domain, Domain]:
    """Pure covariate shift: one nonlinear labelling rule, target inputs shifted."""
    rng = np.random.default_rng(100)  # the rule and markets are fixed; seeds vary rows
    direction = rng.normal(size=d) / np.sqrt(d)

    def label(X: np.ndarray) -> np.ndarray:
        score = np.sin(2 * X[:, 0]) + X[:, 1] * X[:, 2] + 0.5 * X[:, 3]
        return (score + 0.3 * rng.normal(size=len(X)) > 0).astype(int)

    Xs = rng.normal(size=(n, d))
    Xt = rng.normal(size=(n, d)) * 0.8 + 1.5 * direction + np.r_[1.0, np.zeros(d - 1)]
    return (Domain.from_arrays(Xs, label(Xs), name="synthetic-source"),
            Domain.from_arrays(Xt, label(Xt), name="synthetic-target"))


def load_set(name: str) -> tuple[Domain, Domain]:
    from transferkit import datasets

    if name == "synthetic":
        return synthetic()
    if name == "stackoverflow":
        markets = datasets.load_stackoverflow(["United States", "Canada"])
        return markets["United States"], markets["Canada"]
    if name == "amazon":
        markets = datasets.load_amazon_sentiment()
        return markets["books"], markets["kitchen"]
    if name == "retail":
        markets = datasets.load_online_retail(countries=["United Kingdom", "Germany"])
        return markets["United Kingdom"], markets["Germany"]
    if name == "amazon_dvd":
        markets = datasets.load_amazon_sentiment()
        return markets["dvd"], markets["electronics"]
    if name in ("office", "office_caltech"):
        markets = datasets.load_office_caltech_surf()
        pair = ("amazon", "webcam") if name == "office" else ("caltech10", "amazon")
        return tuple(markets[m].with_features(np.log1p(markets[m].X)) for m in pair)
    if name in ("digits", "digits_reverse"):
        markets = datasets.load_mnist_usps()
        pair = ("mnist", "usps") if name == "digits" else ("usps", "mnist")
        return markets[pair[0]], markets[pair[1]]
    raise ValueError(f"unknown set {name!r}; choose from {SETS}")


def seeded_source(source: Domain, seed: int, share: float = 0.8) -> Domain:
    """80 % of the source rows, drawn by ``seed`` (what a seed changes in the tables)."""
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(source.n_samples, int(share * source.n_samples), replace=False))
    return Domain.from_arrays(source.X[rows], source.y[rows], name=source.name)


def weighted_accuracy(source: Domain, target: Domain, weights: np.ndarray | None) -> float:
    scaler = StandardScaler().fit(np.r_[source.X, target.X])
    model = LogisticRegression(max_iter=500)
    model.fit(scaler.transform(source.X), source.y, sample_weight=weights)
    return float(np.mean(model.predict(scaler.transform(target.X)) == target.y))


def stacked(source: Domain, target: Domain) -> tuple[np.ndarray, np.ndarray]:
    return (np.r_[source.X, target.X],
            np.r_[np.zeros(source.n_samples), np.ones(target.n_samples)])


def _ess(weights: np.ndarray) -> dict:
    ess = float(weights.sum() ** 2 / np.square(weights).sum())
    return {"ess": ess, "ess_fraction": ess / len(weights), "n_source": len(weights)}


def append(out: Path, row: dict) -> None:
    with out.open("a") as handle:
        handle.write(json.dumps(row) + "\n")


# ----------------------------------------------------------------------------- parts
def part_kmm(sets: list[str], seeds: tuple[int, ...], out: Path,
             auto_only: bool = False) -> None:
    from transferkit.reweight import KMM
    from transferkit.reweight.kmm import GAMMA_FACTORS, REG_GRID

    for name in sets:
        full_source, target = load_set(name)
        for seed in seeds:
            source = seeded_source(full_source, seed)
            X, is_target = stacked(source, target)
            base = {"part": "kmm", "set": name, "seed": seed}
            if not auto_only:
                append(out, {**base, "setting": "source_only",
                             "accuracy": weighted_accuracy(source, target, None)})
            started = time.time()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", TransferWarning)
                auto = KMM(random_state=seed).fit(X, is_target)
            append(out, {**base, "setting": AUTO, "gamma_factor": None,
                         "chosen": f"{auto.gamma_:.3g}/{auto.reg_:g}",
                         "seconds": time.time() - started, **_ess(auto.weights_),
                         "accuracy": weighted_accuracy(source, target, auto.weights_)})
            if auto_only:
                print(name, seed, "done", flush=True)
                continue
            median = auto.selection_["gamma"][0] / GAMMA_FACTORS[0]
            fixed = [(f"g{f:g}xmed reg={r:g}", median * f, r)
                     for f in GAMMA_FACTORS for r in REG_GRID]
            fixed.append(("peers (1/d, reg=0)", 1.0 / X.shape[1], 0.0))
            for label, gamma, reg in fixed:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", TransferWarning)
                    kmm = KMM(gamma=gamma, reg=reg, random_state=seed).fit(X, is_target)
                append(out, {**base, "setting": label, **_ess(kmm.weights_),
                             "accuracy": weighted_accuracy(source, target, kmm.weights_)})
            print(name, seed, "done", flush=True)


def part_align(sets: list[str], seeds: tuple[int, ...], out: Path,
               trade_offs: tuple[float, ...], epochs: int | None) -> None:
    from transferkit.align import ALIGNERS, default_config

    config = default_config().replace(progress=False)
    if epochs is not None:
        config = config.replace(epochs=epochs)
    for name in sets:
        source, target = load_set(name)
        unlabelled = Domain.from_arrays(target.X, name="target")
        for seed in seeds:
            runs = [("nn_source_only", None)] + [(m, t) for m in ("dann", "cdan", "mmd")
                                                 for t in trade_offs]
            for method, trade_off in runs:
                params = {} if trade_off is None else {"trade_off": trade_off}
                started = time.time()
                model = ALIGNERS.get(method)(config=config, random_state=seed, **params)
                model.fit(source, unlabelled)
                append(out, {"part": "align", "set": name, "seed": seed, "method": method,
                             "trade_off": trade_off, "epochs": config.epochs,
                             "seconds": time.time() - started,
                             "accuracy": float(model.score(target))})
                print(name, seed, method, trade_off, flush=True)


def part_warnings(sets: list[str], out: Path) -> None:
    from transferkit.reweight import REWEIGHTERS

    for name in sets:
        source, target = load_set(name)
        X, is_target = stacked(source, target)
        plain = weighted_accuracy(source, target, None)
        for method in REWEIGHTERS.names():
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", TransferWarning)
                weighter = REWEIGHTERS.get(method)().fit(X, is_target)
            fired = [str(w.message) for w in caught
                     if issubclass(w.category, TransferWarning) and "effective sample" in
                     str(w.message)]
            report = weighter.weight_report()
            append(out, {"part": "warnings", "set": name, "method": method,
                         "warned": bool(fired), "ess": report.ess,
                         "ess_fraction": report.ess_fraction, "n_source": report.n_source,
                         "accuracy": weighted_accuracy(source, target, weighter.weights_),
                         "source_only": plain})
            print(name, method, bool(fired), round(report.ess_fraction, 3), flush=True)


# ----------------------------------------------------------------------------- render
def _paired(frame: pd.DataFrame, a: str, b: str) -> str:
    """Mean difference a - b over seeds, in points, with the paired t-test p-value."""
    wide = frame.pivot_table(index="seed", columns="setting", values="accuracy")
    diff = (wide[a] - wide[b]) * 100
    if len(diff) < 2 or np.allclose(diff, diff.iloc[0]):
        return f"{diff.mean():+.1f}"
    return f"{diff.mean():+.1f} (p={ttest_rel(wide[a], wide[b]).pvalue:.2f})"


def render(path: Path) -> str:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    frame = pd.DataFrame(rows)
    lines = []
    kmm = frame[frame["part"] == "kmm"]
    if len(kmm):
        lines += ["### KMM: width and ridge", "",
                  "| set | source only | default (auto) | chosen gamma/reg (seed 0) | former "
                  "tie rule | former default (median, 1e-2) | peers (1/d, 0) | best fixed "
                  "setting | auto - best fixed (pts, p) | auto - median/1e-2 (pts) | auto - "
                  "peers (pts) |",
                  "|:--|--:|--:|:--|--:|--:|--:|:--|:--|:--|:--|"]
        for name, part in kmm.groupby("set", sort=False):
            means = part.groupby("setting")["accuracy"].mean()
            fixed = means.drop([s for s in ("source_only", AUTO, FORMER_AUTO) if s in means])
            if "peers (1/d, reg=0)" not in fixed or AUTO not in means:  # still running
                continue
            best = str(fixed.idxmax())
            chosen = part[(part["setting"] == AUTO) & (part["seed"] == 0)]
            chosen = chosen["chosen"].iloc[0] if len(chosen) else ""
            former_rule = f"{means[FORMER_AUTO]:.3f}" if FORMER_AUTO in means else "-"
            held_out = " (held out)" if name in HELD_OUT_SETS else ""
            lines.append(
                f"| {name}{held_out} | {means['source_only']:.3f} | {means[AUTO]:.3f} | "
                f"{chosen} | {former_rule} | {means['g1xmed reg=0.01']:.3f} | "
                f"{means['peers (1/d, reg=0)']:.3f} | {best}: {means[best]:.3f} | "
                f"{_paired(part, AUTO, best)} | "
                f"{_paired(part, AUTO, 'g1xmed reg=0.01')} | "
                f"{_paired(part, AUTO, 'peers (1/d, reg=0)')} |")
        lines.append("")
    align = frame[frame["part"] == "align"]
    if len(align):
        align = align.assign(setting=[m if t is None or t != t else f"{m} {t:g}"
                                      for m, t in zip(align["method"], align["trade_off"],
                                                      strict=True)])
        lines += ["### Adversarial / discrepancy weight (`trade_off`)", "",
                  "Target accuracy, mean ± sd over seeds; differences to the source-only "
                  "network in points.", ""]
        settings = list(dict.fromkeys(align["setting"]))
        lines.append("| set | " + " | ".join(settings) + " |")
        lines.append("|:--|" + "--:|" * len(settings))
        for name, part in align.groupby("set", sort=False):
            stats = part.groupby("setting")["accuracy"].agg(["mean", "std"])
            base = stats.loc["nn_source_only", "mean"]
            cells = []
            for s in settings:
                mean, sd = stats.loc[s, "mean"], stats.loc[s, "std"]
                delta = "" if s == "nn_source_only" else f" ({(mean - base) * 100:+.1f})"
                cells.append(f"{mean:.3f} ± {0 if sd != sd else sd:.3f}{delta}")
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        deltas = align.pivot_table(index=["set", "seed"], columns="setting",
                                   values="accuracy")
        deltas = deltas.sub(deltas["nn_source_only"], axis=0).drop(columns="nn_source_only")
        lines += ["", "Mean over sets of (method - source only), points: "
                  + ", ".join(f"{c} {v:+.1f}" for c, v in (deltas.mean() * 100).items()),
                  "Worst set: " + ", ".join(
                      f"{c} {v:+.1f}" for c, v in
                      (deltas.groupby(level="set").mean().min() * 100).items()), ""]
        lines += _default_weight_table(align)
    warn = frame[frame["part"] == "warnings"]
    if len(warn):
        warn = warn.assign(worse=warn["accuracy"] < warn["source_only"])
        lines += ["### Low-ESS warning of the reweighters", "",
                  "| set | method | ESS fraction | ESS rows | warned | weighted acc | "
                  "unweighted acc | worse |", "|:--|:--|--:|--:|:--|--:|--:|:--|"]
        for _, r in warn.iterrows():
            lines.append(f"| {r['set']} | {r['method']} | {r['ess_fraction']:.3f} | "
                         f"{r['ess']:.0f} | {r['warned']} | {r['accuracy']:.3f} | "
                         f"{r['source_only']:.3f} | {r['worse']} |")
        warned = warn[warn["warned"]]
        lines += ["", f"Warned runs: {len(warned)} of {len(warn)}; precision (warned and worse "
                  f"than unweighted): {int(warned['worse'].sum())} of {len(warned)}; "
                  f"worse runs caught (recall): {int(warned['worse'].sum())} of "
                  f"{int(warn['worse'].sum())}.", ""]
    if "ess" in frame and frame["ess"].notna().any():
        lines += _rule_table(frame)
    return "\n".join(lines)


def _default_weight_table(align: pd.DataFrame) -> list[str]:
    """Each aligner's default ``trade_off`` against the other weights tried, per set."""
    from transferkit.align import ALIGNERS

    methods = [m for m in ("dann", "cdan", "mmd") if m in set(align["method"])]
    defaults = {m: ALIGNERS.get(m)().get_params()["trade_off"] for m in methods}
    lines = ["Default weight against the other weight tried: difference in points (paired "
             "t-test over seeds); negative = the default is worse.", "",
             "| set | " + " | ".join(f"{m} {defaults[m]:g} vs " + ", ".join(
                 f"{t:g}" for t in sorted(set(align.loc[align["method"] == m, "trade_off"]))
                 if t != defaults[m]) for m in methods) + " |",
             "|:--|" + "--:|" * len(methods)]
    for name, part in align.groupby("set", sort=False):
        cells = []
        for m in methods:
            default = f"{m} {defaults[m]:g}"
            others = sorted(s for s in set(part["setting"])
                            if s.startswith(f"{m} ") and s != default)
            cells.append("; ".join(_paired(part, default, o) for o in others) or "-")
        held_out = " (held out)" if name in HELD_OUT_SETS else ""
        lines.append(f"| {name}{held_out} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def _rule_table(frame: pd.DataFrame) -> list[str]:
    """Precision / recall of candidate warning rules over every weighted run recorded."""
    plain = (frame[frame["part"] == "kmm"].pipe(lambda f: f[f["setting"] == "source_only"])
             .set_index(["set", "seed"])["accuracy"])
    runs = frame[frame["ess"].notna()].copy()
    runs["baseline"] = [r["source_only"] if r["part"] == "warnings" else
                        plain.get((r["set"], r["seed"]), np.nan) for _, r in runs.iterrows()]
    runs = runs[runs["baseline"].notna()]
    # "Worse" = more than one point below the unweighted model (beyond seed noise).
    runs["worse"] = runs["accuracy"] < runs["baseline"] - 0.01
    rules = {
        "former: ESS < 10 % of rows": runs["ess_fraction"] < LOW_FRACTION,
        f"new: ESS < 10 % of rows and < {LOW_ROWS} rows":
            (runs["ess_fraction"] < LOW_FRACTION) & (runs["ess"] < LOW_ROWS),
        "ESS < 5 % of rows": runs["ess_fraction"] < 0.05,
        "ESS < 50 rows": runs["ess"] < 50,
        "ESS < 200 rows": runs["ess"] < 200,
    }
    lines = ["### Warning rules: precision over every weighted run recorded", "",
             f"{len(runs)} weighted runs (KMM grid and defaults on every set and seed, plus the "
             f"four reweighters' defaults); {int(runs['worse'].sum())} of them are more than "
             "one point worse than the unweighted model.", "",
             "| rule | fires | precision (fired and worse) | recall (worse runs caught) | "
             "held-out sets: precision | held-out sets: recall |",
             "|:--|--:|--:|--:|--:|--:|"]
    held_out = runs["set"].isin(HELD_OUT_SETS).to_numpy()
    for label, rule in rules.items():
        rule = rule.to_numpy()
        cells = []
        for rows in (np.ones(len(runs), dtype=bool), held_out):
            worse, fired = runs["worse"].to_numpy()[rows], rule[rows]
            precision = worse[fired].mean() if fired.any() else float("nan")
            recall = fired[worse].mean() if worse.any() else float("nan")
            cells += [f"{precision:.2f} ({int(worse[fired].sum())}/{int(fired.sum())})",
                      f"{recall:.2f}"]
        lines.append(f"| {label} | {int(rule.sum())} of {len(runs)} | " + " | ".join(cells)
                     + " |")
    base = runs["worse"][held_out].mean() if held_out.any() else float("nan")
    return [*lines, "", f"Base rate on the held-out sets (a rule firing at random): "
            f"{base:.2f}.", ""]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("kmm", "align", "warnings"))
    parser.add_argument("--sets", nargs="+", default=list(SETS), choices=SETS)
    parser.add_argument("--seeds", nargs="+", type=int, default=list(SEEDS))
    parser.add_argument("--trade-offs", nargs="+", type=float, default=[1.0, 0.3, 0.1])
    parser.add_argument("--epochs", type=int, default=None,
                        help="override the aligners' default budget (state it)")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--render", action="store_true")
    parser.add_argument("--auto-only", action="store_true",
                        help="kmm: run only the default, for sets whose grid is recorded")
    args = parser.parse_args()
    if args.render:
        print(render(args.out))
        return 0
    started = time.time()
    if args.part == "kmm":
        part_kmm(args.sets, tuple(args.seeds), args.out, auto_only=args.auto_only)
    elif args.part == "align":
        part_align(args.sets, tuple(args.seeds), args.out, tuple(args.trade_offs), args.epochs)
    elif args.part == "warnings":
        part_warnings(args.sets, args.out)
    print(f"wall time {time.time() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
