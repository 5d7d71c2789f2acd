"""Start-up benchmark: `classifier --help` and a cold `classifier score`, against `python -c pass`.

Run from the repository::

    .venv/bin/python bench/bench_start.py            # 15 runs of each, interleaved
    .venv/bin/python bench/bench_start.py --runs 31

Every command runs in a fresh process, interleaved with the baseline so that a busy
machine slows both alike; the table gives the median wall time and CPU time (user +
system of the child) of each, and their ratio to ``python -c pass`` measured in the same
run. The import rows say where start-up goes: typer (with click), rich (which typer
would import for its help if ``classifier.cli`` did not turn it off), and the CLI module.
Results are also written to ``bench/results/start.json`` (not committed).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
CLASSIFIER = Path(PY).parent / "classifier"

COMMANDS = {
    "python -c pass (baseline)": [PY, "-c", "pass"],
    "import typer (and click)": [PY, "-c", "import typer"],
    "import rich (as typer's help would)": [PY, "-c", "import rich.console, rich.markdown, rich.panel"],
    "import classifier.cli": [PY, "-c", "import classifier.cli"],
    "classifier --help": [str(CLASSIFIER), "--help"],
    "classifier score --help": [str(CLASSIFIER), "score", "--help"],
    "classifier score --text (cold start, both models)": [str(CLASSIFIER), "score", "--text", "Tais-toi, abruti", "--format", "jsonl"],
    "classifier score --text --no-sentiment (cold, hostile model only)": [
        str(CLASSIFIER), "score", "--text", "Tais-toi, abruti", "--format", "jsonl", "--no-sentiment",
    ],  # fmt: skip
}


def timed(argv: list[str]) -> tuple[float, float]:
    """(wall seconds, child CPU seconds) of one run of ``argv``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {proc.stderr.decode(errors='replace').strip()}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    if not CLASSIFIER.exists():
        raise SystemExit(f"no console script at {CLASSIFIER}: pip install -e . first")
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in COMMANDS}
    for _ in range(args.runs):
        for name, argv in COMMANDS.items():  # interleaved: load changes hit every row alike
            samples[name].append(timed(argv))
    median = {name: (statistics.median(w for w, _ in s), statistics.median(c for _, c in s)) for name, s in samples.items()}
    base_wall, base_cpu = median["python -c pass (baseline)"]
    print(f"start-up, median of {args.runs} interleaved runs (load average {os.getloadavg()[0]:.1f})")
    print(f"{'command':66} {'wall s':>8} {'ratio':>6} {'cpu s':>8} {'ratio':>6}")
    rows = []
    for name, (wall, cpu) in median.items():
        rows.append({"command": name, "wall_s": wall, "wall_ratio": wall / base_wall, "cpu_s": cpu, "cpu_ratio": cpu / base_cpu})
        print(f"{name:66} {wall:8.3f} {wall / base_wall:6.2f} {cpu:8.3f} {cpu / base_cpu:6.2f}")
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "start.json").write_text(json.dumps({"runs": args.runs, "rows": rows}, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
