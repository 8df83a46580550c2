"""Result rows -> the RESULTS section (markdown tables) and the accuracy-vs-time plot.

Every table says which command, versions, machine and commit made it. Comparisons are
paired: two methods scored on the same rows of the same splits are compared by a
bootstrap of the per-row loss differences (rows of all seeds pooled), meta-learners by a
bootstrap over the same test tasks.

Examples
--------
>>> import numpy as np
>>> point, low, high = paired_difference(np.zeros(200), np.r_[np.ones(100), np.zeros(100)])
>>> point, bool(low > 0)
(0.5, True)
"""

from __future__ import annotations

import importlib
import os
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.suite.contract import decode_losses
from benchmarks.suite.envs import LIBRARIES

N_BOOT = 1000
STUDIES = ("choice_study",)  # rows that evaluate a rule, shown in their own table


def paired_difference(losses_a: np.ndarray, losses_b: np.ndarray, *, root: bool = False,
                      seed: int = 0) -> tuple[float, float, float]:
    """How much better a is than b, with a 95 % paired bootstrap interval.

    The statistic is mean loss (error rate) or, with ``root``, its square root (RMSE
    from squared errors); the difference is ``statistic(b) - statistic(a)``, so > 0 means
    ``a`` is better. Rows are resampled together, which keeps the pairing.
    """
    a, b = np.asarray(losses_a, float), np.asarray(losses_b, float)
    index = np.random.default_rng(seed).integers(0, len(a), (N_BOOT, len(a)))
    statistic = (lambda x: np.sqrt(x.mean(-1))) if root else (lambda x: x.mean(-1))
    draws = statistic(b[index]) - statistic(a[index])
    low, high = np.quantile(draws, [0.025, 0.975])
    return float(statistic(b) - statistic(a)), float(low), float(high)


def latest(rows: Iterable[dict]) -> list[dict]:
    """The last row of every (track, library, method, item, seed)."""
    kept: dict[tuple, dict] = {}
    for row in rows:
        kept[(row["track"], row["library"], row["method"], row["item"], row["seed"])] = row
    return list(kept.values())


def _label(row: dict) -> str:
    return f"{LIBRARIES[row['library']].label} {row['method']}"


def _ok(rows: list[dict], track: str) -> list[dict]:
    return [r for r in rows if r["track"] == track and r["status"] == "ok"]


def _pooled_losses(rows: list[dict], label: str, item: str) -> np.ndarray | None:
    chosen = sorted((r for r in rows if _label(r) == label and r["item"] == item),
                    key=lambda r: r["seed"])
    if not chosen:
        return None
    return np.concatenate([decode_losses(r["losses"]) for r in chosen])


def _fmt(value: float, metric: str) -> str:
    return f"{100 * value:.1f}" if metric == "accuracy" else f"{value:,.0f}"


def _header(rows: list[dict], title: str, track: str, libraries: set[str]) -> list[str]:
    """Title, then the command(s), date, commit, machine and versions behind ``track``."""
    mine = [r for r in rows if r["track"] == track and r["library"] in libraries]
    versions: dict[str, str] = {}
    runs: dict[str, dict] = {}
    for row in mine:
        versions.update(row.get("versions", {}))
        runs.setdefault(row.get("command", "?"), row.get("run", {}))
    made = "; ".join(
        f"`{command}` — {run.get('date', '?')}, commit {run.get('commit', '?')}, "
        f"{run.get('cpus', '?')} CPUs ({run.get('processor', '?')}), "
        f"{run.get('memory_gb', '?')} GB, Python {run.get('python', '?')}"
        for command, run in runs.items())
    listed = ", ".join(f"{k} {v}" for k, v in sorted(versions.items()))
    return [f"### {title}", "", f"{made}; versions: {listed}.", ""]


def prediction_table(rows: list[dict], track: str, served: str = "transferkit served",
                     ) -> tuple[list[str], dict[str, Any]]:
    """Per-pair mean ± std over seeds for every method, best-first by mean over pairs."""
    ok = [r for r in _ok(rows, track) if r["method"] not in STUDIES]
    if not ok:
        return [], {}
    lines, facts = [], {}
    for metric in ("accuracy", "rmse"):
        subset = [r for r in ok if r["metric"] == metric]
        if not subset:
            continue
        items = list(dict.fromkeys(r["item"] for r in subset))
        scores: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        seconds: dict[str, list[float]] = defaultdict(list)
        memory: dict[str, list[float]] = defaultdict(list)
        for r in subset:
            scores[_label(r)][r["item"]].append(r["score"])
            seconds[_label(r)].append(r["wall_s"])
            memory[_label(r)].append(r["peak_rss_mb"] - r.get("rss_before_mb", 0))
        sign = 1 if metric == "accuracy" else -1
        complete = [m for m in scores if len(scores[m]) == len(items)]
        means = {m: float(np.mean([np.mean(scores[m][i]) for i in items])) for m in complete}
        order = sorted(scores, key=lambda m: (m not in means, -sign * means.get(m, 0)))
        short = [i.split(":", 1)[1] for i in items]
        lines += [f"{'Accuracy (%)' if metric == 'accuracy' else 'RMSE'} on the scored target "
                  f"rows, mean ± std over seeds; **bold** = the model `transferkit run` serves; "
                  "fit s = mean wall seconds of fit + predict; MB = mean peak resident memory "
                  "above the process's level before the fit (the split's arrays included).",
                  "", "| method | " + " | ".join(short) + " | mean | fit s | MB |",
                  "|---|" + "---:|" * (len(items) + 3)]
        for m in order:
            cells = []
            for i in items:
                values = scores[m].get(i)
                cells.append("—" if not values else
                             f"{_fmt(np.mean(values), metric)} ± {_fmt(np.std(values), metric)}")
            mean = _fmt(means[m], metric) if m in means else "—"
            name = f"**{m}**" if m == served else m
            lines.append(f"| {name} | " + " | ".join(cells) +
                         f" | {mean} | {np.mean(seconds[m]):.1f} | {np.mean(memory[m]):,.0f} |")
        lines.append("")
        facts[metric] = {"items": items, "means": means, "seconds": {
            m: float(np.mean(v)) for m, v in seconds.items()}, "ok": subset}
    return lines, facts


def versus(rows: list[dict], method: str, reference: str, items: list[str], metric: str,
           ) -> list[tuple[str, float, float, float]]:
    """(item, difference, low, high) of ``method`` against ``reference``, > 0 = better.

    Accuracy points, or RMSE units, over the scored rows of every seed.
    """
    out = []
    for item in items:
        a, b = _pooled_losses(rows, method, item), _pooled_losses(rows, reference, item)
        if a is None or b is None or len(a) != len(b):
            continue
        scale = 100.0 if metric == "accuracy" else 1.0
        point, low, high = paired_difference(a, b, root=metric == "rmse")
        out.append((item, point * scale, low * scale, high * scale))
    return out


def uda_goals(facts: dict, ok: list[dict]) -> list[str]:
    if "accuracy" not in facts:
        return []
    means, items = facts["accuracy"]["means"], facts["accuracy"]["items"]
    served = "transferkit served"
    peers = {m: v for m, v in means.items() if not m.startswith("transferkit")}
    lines = []
    if served in means and peers:
        best = max(peers, key=peers.get)
        gap = 100 * (means[served] - peers[best])
        lines.append(f"- Served model, mean over {len(items)} pairs: "
                     f"{100 * means[served]:.1f} vs best peer method ({best}) "
                     f"{100 * peers[best]:.1f}: {gap:+.1f} points — goal >= +1: "
                     f"**{'met' if gap >= 1 else 'missed'}**.")
    for reference in ("transferkit source_only", "transferkit nn_source_only"):
        comparison = versus(ok, served, reference, items, "accuracy")
        below = [f"{i.split(':', 1)[1]} ({d:+.1f}, CI {lo:+.1f} to {hi:+.1f})"
                 for i, d, lo, hi in comparison if hi < 0]
        if comparison:
            lines.append(f"- Served vs {reference} (paired bootstrap over target rows x "
                         f"seeds): significantly below on {len(below)} of {len(comparison)} "
                         f"pairs{': ' + '; '.join(below) if below else ''}.")
    chosen = defaultdict(int)
    for r in ok:
        if _label(r) == served and "chosen" in r:
            chosen[r["chosen"]] += 1
    if chosen:
        lines.append("- What the recipe served: " + ", ".join(
            f"{name} {count}x" for name, count in sorted(chosen.items(), key=lambda x: -x[1]))
            + ".")
    return lines


def choice_table(rows: list[dict]) -> list[str]:
    """Which label-free choice rule serves the most accurate model (``choice_study`` rows)."""
    study = [r for r in _ok(rows, "uda") if r["method"] == "choice_study"]
    if not study:
        return []
    pools = list(study[0]["picks"])
    validators = list(study[0]["picks"][pools[0]])
    summary: list[str] = []
    lines = [f"Label-free choice rules over {len(study)} (pair, seed) items: mean target "
             "accuracy (%) of the candidate each validator picks from each pool (candidates "
             "trained on 80 % of the source, no refit), against the best candidate in "
             "hindsight and the pool's average candidate (a random pick).", "",
             "| pool | " + " | ".join(validators) + " | best in hindsight | random |",
             "|---|" + "---:|" * (len(validators) + 2)]
    for pool in pools:
        cells = []
        for validator in validators:
            values = [r["picks"][pool][validator][1] for r in study]
            cells.append("—" if any(v is None for v in values) else
                         f"{100 * np.mean(values):.1f}")
        members = [[r["candidates"][n] for n in r["pools"][pool]] for r in study]
        best = np.mean([max(m) for m in members])
        lines.append(f"| {pool} | " + " | ".join(cells) + f" | {100 * best:.1f} | "
                     f"{100 * np.mean([np.mean(m) for m in members]):.1f} |")
        if pool == "recipe" and "domain_auc" in validators:
            summary = ["", f"- The recipe's rule (domain_auc over its candidates) serves "
                           f"{cells[validators.index('domain_auc')]} % on average; the best "
                           f"candidate in hindsight {100 * best:.1f} %, a random one "
                           f"{100 * np.mean([np.mean(m) for m in members]):.1f} %.",
                       *_rules_against_domain_auc(study, validators)]
    return lines + summary + [""]


def _rules_against_domain_auc(study: list[dict], validators: list[str]) -> list[str]:
    """Each other rule minus domain_auc in the recipe pool: mean and 95 % bootstrap CI."""
    cells = []
    for validator in validators:
        pairs = [(r["picks"]["recipe"][validator][1], r["picks"]["recipe"]["domain_auc"][1])
                 for r in study]
        if validator == "domain_auc" or any(None in p for p in pairs):
            continue
        rule, auc = (100 * np.array(side) for side in zip(*pairs, strict=True))
        # Accuracies in the place of losses: statistic(rule) - statistic(domain_auc).
        mean, lo, hi = paired_difference(auc, rule)
        cells.append(f"{validator} {mean:+.1f} ({lo:+.1f} to {hi:+.1f})")
    if not cells:
        return []
    return [f"- Other rules minus domain_auc, recipe pool, points (95 % bootstrap CI over the "
            f"{len(study)} items): " + "; ".join(cells) + "."]


def fewlabel_goals(facts: dict, ok: list[dict]) -> list[str]:
    lines = []
    for metric, fact in facts.items():
        items = fact["items"]
        for reference in ("transferkit source_only", "transferkit target_only"):
            comparison = versus(ok, "transferkit served", reference, items, metric)
            if not comparison:
                continue
            better = sum(lo > 0 for _, _, lo, _ in comparison)
            worse = sum(hi < 0 for _, _, _, hi in comparison)
            lines.append(f"- {metric}: served vs {reference}: significantly better on "
                         f"{better}, worse on {worse} of {len(comparison)} pairs.")
        peers = {m: v for m, v in fact["means"].items() if not m.startswith("transferkit")}
        if "transferkit served" in fact["means"] and peers:
            sign = 1 if metric == "accuracy" else -1
            best = max(peers, key=lambda m: sign * peers[m])
            mine = _fmt(fact["means"]["transferkit served"], metric)
            lines.append(f"- {metric}: served mean {mine} vs best ADAPT method ({best}) "
                         f"{_fmt(peers[best], metric)}.")
    return lines


def weights_table(rows: list[dict]) -> list[str]:
    subset = [r for r in rows if r["track"] == "weights"]
    if not subset:
        return []
    sizes = sorted({int(r["item"]) for r in subset})
    labels = list(dict.fromkeys(_label(r) for r in subset))
    cell: dict[tuple[str, int], str] = {}
    for r in subset:
        if r["status"] == "ok":
            extra = r["peak_rss_mb"] - r.get("rss_before_mb", 0)
            cell[(_label(r), int(r["item"]))] = (f"{r['wall_s']:.2f} s, +{extra:,.0f} MB, "
                                                 f"{100 * r['score']:.1f} %")
        else:
            cell[(_label(r), int(r["item"]))] = r.get("error", r["status"])[:60]
    lines = ["Wall seconds of the weighting alone, peak resident memory above the process's "
             "level before the task (data included: the same for every library), target "
             "accuracy of a logistic regression trained with the weights.", "",
             "| method | " + " | ".join(f"{n:,} rows" for n in sizes) + " |",
             "|---|" + "---|" * len(sizes)]
    lines += [f"| {m} | " + " | ".join(cell.get((m, n), "—") for n in sizes) + " |"
              for m in labels]
    lines.append("")
    ok = [r for r in subset if r["status"] == "ok"]
    for n in (10_000,):
        ours = [r for r in ok if r["library"] == "ours" and int(r["item"]) == n]
        peers = [r for r in ok if r["library"] != "ours" and int(r["item"]) == n]
        if ours and peers:
            fastest = min(peers, key=lambda r: r["wall_s"])
            good = [r for r in ours if r["score"] >= fastest["score"] - 1e-9]
            if good:
                mine = min(good, key=lambda r: r["wall_s"])
                ratio = fastest["wall_s"] / max(mine["wall_s"], 1e-9)
                lines.append(f"- {n:,} rows: fastest peer {_label(fastest)} "
                             f"{fastest['wall_s']:.2f} s ({100 * fastest['score']:.1f} %); our "
                             f"fastest at equal or better accuracy, {_label(mine)}, "
                             f"{mine['wall_s']:.2f} s ({100 * mine['score']:.1f} %): "
                             f"{ratio:.1f}x — goal >= 10x: "
                             f"**{'met' if ratio >= 10 else 'missed'}**.")
            else:
                lines.append(f"- {n:,} rows: none of our methods matches the accuracy of the "
                             f"fastest peer ({_label(fastest)}): goal **missed**.")
    at100k = [r for r in ok if r["library"] == "ours" and int(r["item"]) == 100_000]
    if at100k:
        fine = [f"{r['method']} {r['wall_s']:.1f} s / "
                f"{r['peak_rss_mb'] - r.get('rss_before_mb', 0):,.0f} MB" for r in at100k]
        within = all(r["wall_s"] <= 10 and r["peak_rss_mb"] - r.get("rss_before_mb", 0) <= 1024
                     for r in at100k)
        lines.append(f"- 100,000 rows: {', '.join(fine)} — goal <= 10 s and <= 1 GB: "
                     f"**{'met' if within else 'missed'}**.")
    return lines + [""]


def gap_table(rows: list[dict]) -> list[str]:
    subset = [r for r in rows if r["track"] == "gap"]
    if not subset:
        return []
    lines = ["Synthetic markets, 50 columns per side (40 numeric, 10 categorical), five planted "
             "shifts of which two are subtle (+0.05 sd; +2 points in one category).", "",
             "| library | rows per side | wall s | CPU s | peak RSS GB | planted shifts found "
             "| subtle found | unshifted columns flagged (of 45) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in sorted(subset, key=lambda r: (int(r["item"]), r["library"])):
        if r["status"] != "ok":
            lines.append(f"| {LIBRARIES[r['library']].label} | {int(r['item']):,} | "
                         f"{r.get('error', r['status'])[:80]} | | | | | |")
            continue
        lines.append(f"| {LIBRARIES[r['library']].label} | {int(r['item']):,} | "
                     f"{r['wall_s']:.1f} | {r['cpu_s']:.1f} | {r['peak_rss_mb'] / 1024:.2f} | "
                     f"{r['n_found']}/5 | {r['subtle_found']}/2 | {r['false_alarms']} |")
    ours = [r for r in subset if r["library"] == "ours" and r["status"] == "ok"
            and int(r["item"]) == 1_000_000]
    if ours:
        r = ours[0]
        met = r["wall_s"] <= 20 and r["peak_rss_mb"] <= 2048
        lines += ["", f"- 1M rows: {r['wall_s']:.1f} s wall, {r['peak_rss_mb'] / 1024:.2f} GB "
                  f"peak (data included) — goal <= 20 s and <= 2 GB: "
                  f"**{'met' if met else 'missed'}** (the machine is shared: see CPU s)."]
    return lines + [""]


def meta_table(rows: list[dict]) -> list[str]:
    ok = _ok(rows, "meta")
    if not ok:
        return []
    lines = []
    for track in dict.fromkeys(r["item"] for r in ok):
        subset = [r for r in ok if r["item"] == track]
        metric = subset[0]["metric"]
        reference = next((r for r in subset if r["method"] == "pooled_offset"), None)
        lower_better = metric in ("mae", "rmse", "log_loss")
        lines += [f"**{track}**, K = {subset[0].get('k', 10)} ({subset[0]['n_tasks']} meta-test "
                  f"tasks): {metric}, 95 % bootstrap CI over tasks; difference vs "
                  "pooled_offset over the same tasks, significance by a paired bootstrap.", "",
                  f"| learner | {metric} [CI] | minus pooled_offset | meta-fit s |",
                  "|---|---:|---:|---:|"]
        for r in sorted(subset, key=lambda r: r["score"] * (1 if lower_better else -1)):
            compare = "reference" if r is reference else "—"
            if reference is not None and r is not reference:
                tasks = sorted(set(r["task_scores"]) & set(reference["task_scores"]))
                a = np.array([r["task_scores"][t] for t in tasks])
                b = np.array([reference["task_scores"][t] for t in tasks])
                # As losses: lower is better for MAE, higher for accuracy.
                point, low, high = (paired_difference(a, b) if lower_better
                                    else paired_difference(-a, -b))
                verdict = "better" if low > 0 else "worse" if high < 0 else "n.s."
                compare = f"{np.mean(a - b):+.3f} ({verdict})"
            lines.append(f"| {r['method']} | {r['score']:.3f} [{r['ci_low']:.3f}, "
                         f"{r['ci_high']:.3f}] | {compare} | {r['wall_s']:.0f} |")
        best = min(subset, key=lambda r: r["score"] * (1 if lower_better else -1))
        if reference is not None:
            lines += ["", f"- {track}, K = {subset[0].get('k', 10)}: best {best['method']} "
                      f"{metric} {best['score']:.3f} vs pooled_offset {reference['score']:.3f}."]
        lines.append("")
    return lines


def recipes_table(rows: list[dict]) -> list[str]:
    ok = _ok(rows, "recipes")
    if not ok:
        return []
    lines = ["The bundled recipes run as `transferkit run <name>` runs them (seed 0); scores "
             "(RMSE for salaries) on the held-out labelled target rows the verdict uses.", "",
             "| recipe | chosen | verdict (p) | served | chosen's score | target-only | "
             "source-only | run s |", "|---|---|---|---|---:|---:|---:|---:|"]
    for r in ok:
        scores = r["scores"]
        metric = "rmse" if "rmse" in scores.get("transferred", {}) else r["metric"]

        def cell(model: str, scores: dict = scores, metric: str = metric) -> str:
            value = scores.get(model, {}).get(metric)
            return "—" if value is None else f"{value:,.0f}" if metric == "rmse" else (
                f"{value:.3f}")

        lines.append(f"| {r['item']} | {r['chosen']} | {r['verdict']} ({r['p_value']:.2g}) | "
                     f"{r['served']} | {cell('transferred')} | {cell('target_only')} | "
                     f"{cell('source_only')} | {r['wall_s']:.0f} |")
    lines += ["", "- " + "; ".join(f"{r['item']}: serves {r['served']} ({r['verdict']})"
                                   for r in ok) + "."]
    return lines + [""]


def features_table(rows: list[dict]) -> list[str]:
    ok = _ok(rows, "features")
    if not ok:
        return []
    lines = ["EfficientNet-Lite0 (ImageNet), frozen: epoch 1 encodes every target image, a "
             "later epoch reads the feature cache; linear probe (C by CV on the source).", "",
             "| pair | images (source / target) | epoch 1 s | images/s | cached epoch s | "
             "cached / epoch 1 | probe accuracy | GPU MB |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in ok:
        gpu = f"{r['gpu_peak_mb']:,.0f}" if "gpu_peak_mb" in r else "—"
        lines.append(f"| {r['item'].split(':', 1)[1]} | {r['n_source']} / {r['n_target']} | "
                     f"{r['first_epoch_s']:.1f} | {r['images_per_s']:.1f} | "
                     f"{r['cached_epoch_s']:.3f} | {r['cached_ratio']:.4f} | "
                     f"{100 * r['score']:.1f} % | {gpu} |")
    worst = max(r["cached_ratio"] for r in ok)
    lines += ["", f"- Cached epoch / first epoch: {worst:.4f} at most — goal <= 0.10: "
              f"**{'met' if worst <= 0.10 else 'missed'}**.", ""]
    return lines


def gpu_table(rows: list[dict], epochs: int) -> list[str]:
    """Samples per second and GPU memory of the deep methods (rows run with --device cuda)."""
    ok = [r for r in _ok(rows, "uda") if "gpu_peak_mb" in r]
    if not ok:
        return []
    by: dict[str, list[dict]] = defaultdict(list)
    for r in ok:
        by[_label(r)].append(r)
    speed = {m: float(np.mean([r["n_source"] * epochs / r["wall_s"] for r in rs]))
             for m, rs in by.items()}
    lines = ["| method | source samples / s (fit + predict) | peak GPU MB |", "|---|---:|---:|"]
    lines += [f"| {m} | {speed[m]:,.0f} | {max(r['gpu_peak_mb'] for r in by[m]):,.0f} |"
              for m in sorted(speed, key=lambda m: -speed[m])]
    mine, base = speed.get("transferkit dann"), speed.get("transferkit nn_source_only")
    if mine and base:
        ratio = base / mine
        lines += ["", f"- DANN step / source-only step (AMP on CUDA): {ratio:.2f} — goal <= 1.3: "
                  f"**{'met' if ratio <= 1.3 else 'missed'}**."]
    return lines + [""]


def plot(facts: dict, path: Path) -> bool:
    """Accuracy vs fit time, one point per method x library; ``False`` when nothing to plot."""
    if "accuracy" not in facts or not facts["accuracy"]["means"]:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    means, seconds = facts["accuracy"]["means"], facts["accuracy"]["seconds"]
    figure, axes = plt.subplots(figsize=(8, 5.5), dpi=110)
    libraries = sorted({m.split(" ")[0] for m in means})
    markers = dict(zip(libraries, "o^sDvP", strict=False))
    for library in libraries:
        names = [m for m in means if m.split(" ")[0] == library]
        axes.scatter([seconds[m] for m in names], [100 * means[m] for m in names],
                     label=library, marker=markers[library], s=46)
        for m in names:
            axes.annotate(m.split(" ", 1)[1], (seconds[m], 100 * means[m]), fontsize=7,
                          xytext=(3, 3), textcoords="offset points",
                          fontweight="bold" if m == "transferkit served" else "normal")
    if "transferkit served" in means:  # what `transferkit run` serves, ringed
        axes.scatter([seconds["transferkit served"]], [100 * means["transferkit served"]],
                     s=260, facecolors="none", edgecolors="black", linewidths=1.5,
                     label="served by transferkit run")
    axes.set_xscale("log")
    axes.set_xlabel("mean wall seconds per fit + predict (log scale)")
    axes.set_ylabel(f"mean target accuracy over {len(facts['accuracy']['items'])} pairs (%)")
    axes.set_title("Label-free adaptation on real pairs: accuracy vs time")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp.png")
    figure.savefig(temporary)
    plt.close(figure)
    os.replace(temporary, path)
    return True


def caveats(rows: list[dict]) -> list[str]:
    """The adapters' measured notes on their libraries' defaults, for methods in ``rows``."""
    seen = dict.fromkeys((r["library"], r["method"]) for r in rows)
    out = []
    for library, method in seen:
        module = importlib.import_module(f"benchmarks.suite.libs.{LIBRARIES[library].module}")
        note = getattr(module, "CAVEATS", {}).get(method)
        if note:
            out.append(f"- {LIBRARIES[library].label} {method}: {note}.")
    return out


def known_failure(row: dict) -> str | None:
    """The adapter's description when ``row`` is a peer failure it documents as measured.

    Such a row is a result (the library fails on these data with its defaults), not a
    figure the run could not produce; limits (time, memory) and crashes are never known.
    """
    if row["status"] != "error" or row.get("error", "").startswith(("killed:", "exit code")):
        return None
    module = importlib.import_module(f"benchmarks.suite.libs.{LIBRARIES[row['library']].module}")
    return getattr(module, "KNOWN_FAILURES", {}).get(row["method"])


def _describe(row: dict) -> str:
    return (f"{row['track']} {LIBRARIES[row['library']].label} {row['method']} {row['item']} "
            f"seed {row['seed']}: {row.get('error', row['status'])}")


def problems_of(rows: list[dict]) -> list[str]:
    """Rows that failed for any reason but a documented peer failure."""
    return [_describe(r) for r in rows if r["status"] != "ok" and known_failure(r) is None]


def write(rows: list[dict], *, section: Path, figure: Path, command: str,
          settings: Any, read_from: Path | None = None) -> list[str]:
    """Write the section and the plot; return the figures that could not be produced.

    ``read_from`` is the folder of the document the section ends up in (RESULTS.md's for
    the published run), which the plot's link is relative to; default: the section's.
    """
    rows = latest(rows)
    seeds = sorted({r["seed"] for r in rows if r["track"] in ("uda", "fewlabel")})
    epochs = sorted({r["params"]["epochs"] for r in rows if "params" in r} or {settings.epochs})
    lines = ["## One run, every headline: transferkit and its peers on the same splits", "",
             f"Rendered by `{command}` (`benchmarks/run.py`; each table names the run that "
             "made its rows): every method in its own subprocess "
             f"(one thread, {settings.memory_cap_mb / 1024:.0f} GB memory cap, time limit), "
             f"seeds {seeds}, {'/'.join(map(str, epochs))} epochs for every network, the "
             "same z-scored features and splits for every library. Peers run in their own "
             "environments (`bash benchmarks/setup_peers.sh`), with their documented defaults.",
             ""]
    headlines: list[str] = []
    uda_lines, uda_facts = prediction_table(rows, "uda")
    if uda_lines:
        lines += _header(rows, "Label-free adaptation on real pairs (transductive)", "uda",
                         {"ours", "skada", "adapt", "pytorch_adapt"})
        goals = uda_goals(uda_facts, _ok(rows, "uda"))
        headlines += [f"- Label-free: {line[2:]}" for line in goals]
        lines += uda_lines + goals + [""]
        notes = caveats([r for r in rows if r["track"] == "uda"])
        if notes:
            lines += ["Peers' defaults, as measured (kept: the comparison is as a new user "
                      "runs each library):", "", *notes, ""]
        lines += choice_table(rows)
        if plot(uda_facts, figure):
            link = os.path.relpath(figure, read_from or section.parent)
            lines += [f"![accuracy vs time]({link})", ""]
    choice = choice_table(rows)
    if choice:
        lines += _header(rows, "Label-free choice rules: which candidate each validator serves",
                         "uda", {"ours"}) + choice
        headlines += [f"- Label-free choice: {line[2:]}" for line in choice
                      if line.startswith("- ")]
    few_lines, few_facts = prediction_table(rows, "fewlabel")
    if few_lines:
        lines += _header(rows, f"Few-label transfer, K = {settings.k} labelled target rows",
                         "fewlabel", {"ours", "adapt"})
        goals = fewlabel_goals(few_facts, _ok(rows, "fewlabel"))
        headlines += [f"- Few-label: {line[2:]}" for line in goals]
        lines += few_lines + goals + [""]
    for title, track, libraries, body in (
            ("Recipes: the README's main job and the guard", "recipes", {"ours_recipes"},
             recipes_table(rows)),
            ("Reweighting: speed, memory and accuracy by size", "weights",
             {"ours", "skada", "adapt"}, weights_table(rows)),
            ("Gap report vs drift libraries", "gap", {"ours", "evidently", "nannyml"},
             gap_table(rows)),
            ("Frozen-backbone features and their cache", "features", {"ours_features"},
             features_table(rows)),
            ("On the GPU", "uda", {"ours", "skada", "pytorch_adapt"},
             gpu_table(rows, settings.epochs)),
            ("Meta-learning: cold-start users and households", "meta", {"ours_meta"},
             meta_table(rows))):
        if body:
            lines += _header(rows, title, track, libraries) + body
            headlines += [f"- {title.split(':')[0]}: {line[2:]}" for line in body
                          if line.startswith("- ")]
    if headlines:
        lines[4:4] = ["### Headlines", "", *headlines, ""]
    grouped: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        if known_failure(r):
            grouped[(r["track"], r["library"], r["method"])].append(r)
    known = [f"{track} {LIBRARIES[library].label} {method}, {len(group)} item(s) "
             f"({', '.join(dict.fromkeys(r['item'] for r in group))}): "
             f"{group[0].get('error', '')[:100]} — {known_failure(group[0])}"
             for (track, library, method), group in grouped.items()]
    if known:
        lines += ["### Peer failures (results: the library fails on these data with its "
                  "defaults)", ""] + [f"- {k}" for k in known] + [""]
    problems = problems_of(rows)
    if problems:
        lines += ["### Rows that could not be produced", ""] + [f"- {p}" for p in problems] + [""]
    section.parent.mkdir(parents=True, exist_ok=True)
    temporary = section.with_suffix(".tmp")
    temporary.write_text("\n".join(lines) + "\n")
    os.replace(temporary, section)
    return problems
