"""Dask benchmark: ``classifier score --engine dask`` with 1 and 2 workers against the single-process CLI.

Run from the repository (it needs ``../shared/data`` beside it)::

    .venv/bin/python bench/bench_dask.py            # 1,000,000 comments (about 20 minutes on 2 cores)
    .venv/bin/python bench/bench_dask.py --quick    # 100,000 comments

The comments are drawn with replacement from the labelled corpora of ``../shared/data``
(``bench_score.draw_texts``, seed 0) into one temporary Parquet file (row groups of 50,000
rows), never into the repository. Every run scores that same file and writes JSONL, each
in a fresh process (so the models are loaded and their caches filled from cold):

a. comments/s (wall, start-up included) of the single-process CLI (the baseline), of
   ``--engine dask --workers 1`` and of ``--workers 2`` (LocalCluster processes, one thread
   each), the ratios against the baseline and the 2-over-1 speed-up;
b. peak RSS of each Dask worker process (polled from /proc through psutil every 0.2 s),
   against the single-process CLI's peak RSS, and of the client (scheduler and nannies);
c. the overheads the projection in ``bench/README.md`` needs: the fixed cost of a Dask run
   (cluster start, model load, one tiny partition: 1,000 comments, against the local CLI on
   the same 1,000), the steady rate of one worker once that cost is paid, and the cost of one
   more partition (the same comments cut into 2,000-row instead of 50,000-row partitions).

Results are printed as a table and written to ``bench/results/dask.json``.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_score import CLASSIFIER, ROOT, draw_texts  # noqa: E402  (the same comment sample as bench_score)

ROW_GROUP = 50_000
SUMMARY = re.compile(r"classifier: scored (\d+),")


def write_parquet(path: Path, texts: list[str]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"id": [f"c{i}" for i in range(len(texts))], "text": texts})
    pq.write_table(table, path, row_group_size=ROW_GROUP)


def run(argv: list[str], stdout: Path | None = None) -> dict:
    """Wall time, scored count and peak RSS (MiB) of the command and of each of its descendants."""
    peaks: dict[int, tuple[str, float]] = {}
    with open(stdout or "/dev/null", "wb") as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        child = subprocess.Popen([str(a) for a in argv], stdout=out, stderr=err)
        root = psutil.Process(child.pid)
        while child.poll() is None:
            try:
                for process in [root, *root.children(recursive=True)]:
                    rss = process.memory_info().rss / 2**20
                    name = " ".join(process.cmdline()[-3:])
                    if rss > peaks.get(process.pid, ("", 0.0))[1]:
                        peaks[process.pid] = (name, rss)
            except psutil.Error:
                pass
            time.sleep(0.2)
        wall = time.perf_counter() - start
        err.seek(0)
        text = err.read().decode(errors="replace")
    found = SUMMARY.search(text)
    if child.returncode != 0 or not found:
        raise SystemExit(f"bench: {' '.join(map(str, argv))} failed ({child.returncode}): {text[-800:]}")
    workers = [rss for pid, (name, rss) in peaks.items() if pid != child.pid and "spawn_main" in name]
    return {"wall": wall, "scored": int(found.group(1)), "rss": peaks[child.pid][1], "workers": workers}


def dask(path: Path, out: Path, workers: int, partition_rows: int = ROW_GROUP) -> dict:
    argv = [CLASSIFIER, "score", path, "--engine", "dask", "--workers", workers, "--out", out,
            "--format", "jsonl", "--partition-rows", partition_rows]  # fmt: skip
    result = run(argv)
    if len(result["workers"]) != workers:
        raise SystemExit(f"bench: expected {workers} worker processes, saw {len(result['workers'])}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="100,000 comments instead of 1,000,000")
    parser.add_argument("--rows", type=int, help="another number of comments (at least 20,000)")
    args = parser.parse_args()
    n = args.rows or (100_000 if args.quick else 1_000_000)
    n_small, n_overhead = 1_000, 20_000 if n < 1_000_000 else 100_000

    texts = draw_texts(n)
    rows: list[tuple[str, str, str, str]] = []
    with tempfile.TemporaryDirectory(prefix="bench-dask-") as tmp:
        tmp = Path(tmp)
        data, small, medium = tmp / "comments.parquet", tmp / "small.parquet", tmp / "medium.parquet"
        write_parquet(data, texts)
        write_parquet(small, texts[:n_small])
        write_parquet(medium, texts[:n_overhead])

        local = run([CLASSIFIER, "score", data, "--format", "jsonl"], stdout=tmp / "local.jsonl")
        one = dask(data, tmp / "one", 1)
        two = dask(data, tmp / "two", 2)
        for name, result in (("local", local), ("1 worker", one), ("2 workers", two)):
            if result["scored"] != n:
                raise SystemExit(f"bench: {name} scored {result['scored']:,} of {n:,}")

        local_small = run([CLASSIFIER, "score", small, "--format", "jsonl"])
        fixed = dask(small, tmp / "fixed", 1)
        coarse = dask(medium, tmp / "coarse", 1, ROW_GROUP)
        fine = dask(medium, tmp / "fine", 1, 2_000)

    def per_s(result: dict, count: int = n) -> float:
        return count / result["wall"]

    steady = n / (one["wall"] - fixed["wall"])
    extra_parts = -(-n_overhead // 2_000) - -(-n_overhead // ROW_GROUP)
    per_part = (fine["wall"] - coarse["wall"]) / extra_parts
    rows = [
        ("(a) CLI comments/s, single process", f"{per_s(local):,.0f}", "-", ""),
        ("(a) --engine dask comments/s, 1 worker", f"{per_s(one):,.0f}", f"{per_s(local):,.0f} CLI", f"{per_s(one) / per_s(local):.2f}"),
        ("(a) --engine dask comments/s, 2 workers", f"{per_s(two):,.0f}", f"{per_s(local):,.0f} CLI", f"{per_s(two) / per_s(local):.2f}"),
        ("(a) speed-up, 2 workers over 1", f"{per_s(two):,.0f}", f"{per_s(one):,.0f} 1 worker", f"{per_s(two) / per_s(one):.2f}"),
        ("(b) peak RSS MiB per worker, 1 worker", f"{max(one['workers']):,.0f}", f"{local['rss']:,.0f} CLI", f"{max(one['workers']) / local['rss']:.2f}"),
        ("(b) peak RSS MiB per worker, 2 workers", f"{max(two['workers']):,.0f}", f"{local['rss']:,.0f} CLI", f"{max(two['workers']) / local['rss']:.2f}"),
        ("(b) peak RSS MiB, client + scheduler", f"{two['rss']:,.0f}", f"{local['rss']:,.0f} CLI", f"{two['rss'] / local['rss']:.2f}"),
        (f"(c) fixed cost s, {n_small:,} comments", f"{fixed['wall']:.1f}", f"{local_small['wall']:.1f} CLI", f"{fixed['wall'] / local_small['wall']:.2f}"),
        ("(c) steady comments/s of 1 worker", f"{steady:,.0f}", f"{per_s(local):,.0f} CLI", f"{steady / per_s(local):.2f}"),
        (f"(c) s per extra partition ({n_overhead:,} in 2,000-row parts)", f"{per_part:.3f}",
         f"{coarse['wall']:.1f} s in 50,000-row parts", f"{per_part / coarse['wall']:.4f}"),
    ]  # fmt: skip
    print(f"dask benchmark: {n:,} comments drawn from ../shared/data, one Parquet file ({ROW_GROUP:,}-row groups), "
          f"{psutil.cpu_count()} cores, JSONL output")  # fmt: skip
    widths = [max(len(r[i]) for r in [("measure", "ours", "baseline", "ratio"), *rows]) for i in range(4)]
    header = ("measure", "ours", "baseline", "ratio")
    print(f"{header[0]:<{widths[0]}}  {header[1]:>{widths[1]}}  {header[2]:<{widths[2]}}  {header[3]:>{widths[3]}}")
    print("  ".join("-" * w for w in widths))
    for name, ours, base, ratio in rows:
        print(f"{name:<{widths[0]}}  {ours:>{widths[1]}}  {base:<{widths[2]}}  {ratio:>{widths[3]}}")
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    raw = {"n": n, "local": local, "one": one, "two": two, "local_small": local_small, "fixed": fixed,
           "coarse": coarse, "fine": fine, "steady_per_s": steady, "per_partition_s": per_part}  # fmt: skip
    (results / "dask.json").write_text(json.dumps(raw, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
