"""Time the crate's exact binary metrics against scikit-learn on the same synthetic data.

Run from the repository root:

    .venv/bin/python scripts/bench/binary_vs_sklearn.py [--sizes 1000000 10000000]

For each size it draws seeded scores and actuals and writes them to a temporary file. It times
scikit-learn computing eleven metrics on the in-memory arrays, then runs the release build of
the `bench_binary` example on the same file (built first with `cargo build --release`). Both
sides time the computation only, on one thread. The script prints the median wall-clock and CPU
seconds of each side, their ratios, and how closely the two agree on ROC-AUC, average precision
and log loss. CPU time is the steadier figure when other jobs share the machine.
"""

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

# One thread for numpy's BLAS too, as the Rust side uses one; set before numpy loads.
for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[variable] = "1"

import numpy as np  # noqa: E402
from sklearn import metrics as skm  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "target" / "release" / "examples" / "bench_binary"


def records(n, seed):
    """Uniform scores and actuals drawn positive with probability equal to the score."""
    rng = np.random.default_rng(seed)
    scores = rng.random(n)
    actuals = (rng.random(n) < scores).astype(np.int64)
    return scores, actuals


def write_records(path, scores, actuals):
    with open(path, "wb") as handle:
        handle.write(np.uint64(len(scores)).tobytes())
        handle.write(scores.astype("<f8").tobytes())
        handle.write(actuals.astype(np.uint8).tobytes())


def sklearn_seconds(scores, actuals):
    """Time one call of each metric.

    Returns the wall-clock and CPU seconds of the whole set, and the values checked against Rust.
    """
    start, cpu_start = time.perf_counter(), time.process_time()
    predicted = (scores >= 0.5).astype(np.int64)
    skm.accuracy_score(actuals, predicted)
    skm.balanced_accuracy_score(actuals, predicted)
    skm.precision_score(actuals, predicted)
    skm.recall_score(actuals, predicted)
    skm.f1_score(actuals, predicted)
    skm.matthews_corrcoef(actuals, predicted)
    roc_auc = skm.roc_auc_score(actuals, scores)
    pr_auc = skm.average_precision_score(actuals, scores)
    log_loss = skm.log_loss(actuals, scores)
    skm.brier_score_loss(actuals, scores)
    skm.confusion_matrix(actuals, predicted)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    return elapsed, cpu, {"roc_auc": roc_auc, "pr_auc": pr_auc, "log_loss": log_loss}


def rust_run(path, repeats):
    output = subprocess.run([str(EXAMPLE), str(path), str(repeats)], check=True, capture_output=True, text=True)
    return json.loads(output.stdout)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000],
                        help="record counts to time (default: 1,000,000 and 10,000,000)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per side; the median is reported")
    args = parser.parse_args()

    subprocess.run(["cargo", "build", "--quiet", "--release", "-p", "mpt-metrics", "--example", "bench_binary"],
                   check=True, cwd=ROOT)

    print(f"{'records':>12} {'clock':>6} {'scikit-learn s':>15} {'Rust s':>9} {'ratio':>7}")
    with tempfile.TemporaryDirectory() as directory:
        for n in args.sizes:
            scores, actuals = records(n, seed=n)
            path = Path(directory) / f"records_{n}.bin"
            write_records(path, scores, actuals)

            runs = [sklearn_seconds(scores, actuals) for _ in range(args.repeats)]
            expected = runs[0][2]
            rust = rust_run(path, args.repeats)
            timings = [("wall", [run[0] for run in runs], rust["seconds"]),
                       ("cpu", [run[1] for run in runs], rust["cpu_seconds"])]
            for clock, python_runs, rust_runs in timings:
                if not rust_runs:
                    continue
                python_seconds, rust_seconds = float(np.median(python_runs)), float(np.median(rust_runs))
                print(f"{n:>12,} {clock:>6} {python_seconds:>15.3f} {rust_seconds:>9.4f} "
                      f"{python_seconds / rust_seconds:>6.1f}x")
            difference = max(abs(rust[key] - expected[key]) for key in expected)
            print(f"{'':>12} ROC-AUC, average precision and log loss agree within {difference:.1e}")


if __name__ == "__main__":
    main()
