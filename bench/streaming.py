"""Scoring a table bigger than we want in memory: ``aekit score`` streaming a generated
5-million-row, 30-column Parquet file, with its rows per second and peak resident memory.

The file is generated once, in chunks (bounded memory), and cached in ``--out`` (default
``build/``): rows from 6 hidden factors mixed into 30 float64 columns plus noise, 0.5 % of
them shifted anomalies, in row groups of 100,000 rows. A detector is fitted on a 50,000-row
uniform sample read from the file row group by row group (``ParquetSource.sample``), then
``aekit score`` runs on the whole file in a subprocess, writing Parquet. Peak memory is the
child's ``ru_maxrss``. Bar: under 1 GiB.

    python bench/streaming.py --rows 5000000 --out build
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
N_COLUMNS = 30
N_FACTORS = 6
ROW_GROUP = 100_000
BAR_MIB = 1024.0


def generate(path: Path, n_rows: int, seed: int = 0, chunk: int = 500_000) -> Path:
    """Write ``n_rows`` rows to ``path`` chunk by chunk; reuse it if it already has them."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if path.exists() and pq.ParquetFile(path).metadata.num_rows == n_rows:
        return path
    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(N_FACTORS, N_COLUMNS))
    offset, scale = rng.normal(0, 10, N_COLUMNS), rng.uniform(0.5, 20, N_COLUMNS)
    names = [f"x{i:02d}" for i in range(N_COLUMNS)]
    partial = path.with_name(f".{path.name}.partial")
    with pq.ParquetWriter(partial, pa.schema([(n, pa.float64()) for n in names])) as writer:
        for start in range(0, n_rows, chunk):
            n = min(chunk, n_rows - start)
            chunk_rng = np.random.default_rng([seed, start])
            x = chunk_rng.normal(size=(n, N_FACTORS)) @ mixing
            x += 0.1 * chunk_rng.normal(size=x.shape)
            anomalies = chunk_rng.random(n) < 0.005
            x[anomalies] += chunk_rng.normal(0, 3, size=(int(anomalies.sum()), N_COLUMNS))
            x = x * scale + offset
            table = pa.table({name: x[:, i] for i, name in enumerate(names)})
            writer.write_table(table, row_group_size=ROW_GROUP)
    os.replace(partial, path)
    return path


def measured(command: list[str]) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    """(wall seconds, peak RSS MiB, result) of ``command`` run in a fresh child."""
    probe = (
        "import resource, subprocess, sys, time;"
        "t = time.perf_counter(); r = subprocess.run(sys.argv[1:]);"
        "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,"
        " file=sys.stderr); sys.exit(r.returncode)"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    result = subprocess.run(
        [sys.executable, "-c", probe, *command], capture_output=True, text=True, env=env
    )
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stderr[-2000:]}")
    seconds, kib = result.stderr.strip().splitlines()[-1].split()
    return float(seconds), float(kib) / 1024.0, result


def run(rows: int = 5_000_000, out: Path = REPO / "build", sample: int = 50_000) -> dict[str, Any]:
    """Generate (or reuse) the file, fit a detector on a sample, time ``aekit score``."""
    import pyarrow.parquet as pq

    from aekit import AnomalyDetector
    from aekit.data.loaders import ParquetSource

    out.mkdir(parents=True, exist_ok=True)
    data = out / f"streaming-{rows}x{N_COLUMNS}.parquet"
    started = time.perf_counter()
    generate(data, rows)
    generate_seconds = time.perf_counter() - started
    model = out / "streaming-detector.safetensors"
    started = time.perf_counter()
    frame = ParquetSource(data).sample(sample, seed=0)
    detector = AnomalyDetector(random_state=0).fit(frame)
    detector.save(model)
    fit_seconds = time.perf_counter() - started
    scores = out / "streaming-scores.parquet"
    cli = [sys.executable, "-m", "aekit"]
    floor_seconds, floor_mib, _ = measured([sys.executable, "-c", "import aekit, torch, pyarrow"])
    seconds, peak_mib, result = measured(
        [*cli, "score", str(model), str(data), "-o", str(scores), "--quiet"]
    )
    written = pq.ParquetFile(scores).metadata.num_rows
    if written != rows:
        raise RuntimeError(f"aekit score wrote {written} rows, not {rows}")
    return {
        "rows": rows,
        "columns": N_COLUMNS,
        "file_mib": data.stat().st_size / 2**20,
        "row_groups": pq.ParquetFile(data).metadata.num_row_groups,
        "generate_seconds": generate_seconds,
        "fit_seconds": fit_seconds,
        "fit_sample_rows": sample,
        "score_seconds": seconds,
        "rows_per_second": rows / seconds,
        "peak_rss_mib": peak_mib,
        "import_floor_mib": floor_mib,
        "import_floor_seconds": floor_seconds,
        "flagged": result.stdout.strip().splitlines()[-1],
        "bar_mib": BAR_MIB,
        "passed": peak_mib < BAR_MIB,
        "threads": os.environ.get("OMP_NUM_THREADS", str(os.cpu_count())),
    }


def markdown(result: dict[str, Any]) -> str:
    verdict = "PASS" if result["passed"] else "FAIL"
    return "\n".join(
        [
            f"`aekit score` streaming a {result['rows']:,}-row, {result['columns']}-column "
            f"Parquet file ({result['file_mib']:,.0f} MiB, {result['row_groups']} row groups), "
            f"detector fitted on a {result['fit_sample_rows']:,}-row sample in "
            f"{result['fit_seconds']:.1f} s:",
            "",
            "| wall time | rows/s | peak RSS | bare `import aekit, torch, pyarrow` |",
            "|---|---|---|---|",
            f"| {result['score_seconds']:.1f} s | {result['rows_per_second']:,.0f} | "
            f"{result['peak_rss_mib']:,.0f} MiB | {result['import_floor_mib']:,.0f} MiB |",
            "",
            f"Peak memory {result['peak_rss_mib']:,.0f} MiB vs the bar {result['bar_mib']:,.0f}"
            f" MiB: **{verdict}**. ({result['flagged']})",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--out", type=Path, default=REPO / "build")
    parser.add_argument("--sample", type=int, default=50_000, help="rows the detector fits on")
    args = parser.parse_args()
    result = run(args.rows, args.out, args.sample)
    print(markdown(result))
    sys.exit(0 if result["passed"] else 1)


if __name__ == "__main__":
    main()
