"""Gather the per-benchmark sections into benchmarks/RESULTS.md.

Each benchmark script writes its own ``benchmarks/sections/<module>.md`` (with the command
that produced every figure); this script puts the headline table and all sections in one
file: ``python benchmarks/collect_results.py``.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
ORDER = ("suite", "all_pairs", "choice_selection", "choice_rules",
         "datasets", "door_checks", "gap",
         "reweight", "align", "align_throughput", "finetune", "detect", "fewlabel", "meta",
         "defaults")


def main() -> None:
    head = (HERE / "RESULTS_HEAD.md").read_text(encoding="utf-8")
    def rank(path: Path) -> tuple[int, str]:
        return (ORDER.index(path.stem) if path.stem in ORDER else len(ORDER), path.stem)

    sections = sorted((HERE / "sections").glob("*.md"), key=rank)
    body = "\n\n".join(p.read_text(encoding="utf-8").strip() for p in sections)
    target = HERE / "RESULTS.md"
    tmp = target.with_suffix(".md.tmp")
    tmp.write_text(head.rstrip() + "\n\n" + body + "\n", encoding="utf-8")
    tmp.replace(target)


if __name__ == "__main__":
    main()
