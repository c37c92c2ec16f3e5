"""Every benchmark in one run: ``python -m bench`` from the repository root.

Runs the comparisons of issue 6 on the data in ``$AEKIT_DATA`` (or ``../shared/data``), each
side in this same process run, on the same data and threads, and writes
``benchmarks.json``, ``benchmarks.md`` (the bars first, then a table per comparison) and one
PNG per comparison into ``--out`` (``docs/`` by default).

    python -m bench                          # everything at full size (about 40 min on 2 cores)
    python -m bench --only speed,anomaly     # re-run some; the others are kept from the last run
    python -m bench --quick                  # a smoke run on small slices, into build/bench-quick

The comparisons: speed (aekit vs Keras 3 vs a minimal PyTorch loop vs the matmul floor),
quality (held-out MSE vs PCA after a fixed number of epochs, 2-D k-NN), anomaly (ADBench,
aekit against nine classic methods), denoising (PSNR vs the seed network), inference (rows/s
and peak memory on 1M rows), profile (where the loop's time goes, and an ablation of its
choices) and tables (column roles: planted night-time orders and NAB's taxi counts, timestamp
as calendar inputs vs as raw categories vs left out), threads (aekit demo and an MNIST
epoch, idle and beside a busy process, torch's thread count vs aekit's choice) and
timeseries (SKAB's protocol, NAB's VUS-PR, throughput on 1M timestamps).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "torch")

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import torch  # noqa: E402
from _common import REPO, data_dir  # noqa: E402

SECTIONS = (
    "speed",
    "quality",
    "anomaly",
    "large_table",
    "mnist_oneclass",
    "denoising",
    "inference",
    "profile",
    "tables",
    "threads",
    "timeseries",
)
QUICK_ADBENCH = ("14_glass", "42_WBC", "18_Ionosphere")


def _mnist(data: Path, images: bool) -> Any:
    from aekit.datasets import load_mnist

    return load_mnist(data / "mnist" / "mnist.npz", images=images)


def run_speed(data: Path, quick: bool, repeats: int) -> dict[str, Any]:
    import speed

    (X_train, _), _ = _mnist(data, images=False)
    if quick:
        return speed.run(X_train[:6000], repeats=1, epochs=1)
    return speed.run(X_train, repeats=repeats, epochs=2)


def run_quality(data: Path, quick: bool, repeats: int) -> dict[str, Any]:
    import quality

    (X_train, y_train), (X_test, y_test) = _mnist(data, images=True)
    if quick:
        train, test = (X_train[:3000], y_train[:3000]), (X_test[:1000], y_test[:1000])
        return quality.run(train, test, epochs=1, latents=(2, 8), seeds=(0,))
    seeds = tuple(range(max(1, repeats)))
    return quality.run((X_train, y_train), (X_test, y_test), quality.EPOCHS, seeds=seeds)


def run_anomaly(data: Path, quick: bool, repeats: int) -> dict[str, Any]:
    import anomaly_adbench

    sets = data / "adbench"
    if not quick:
        return anomaly_adbench.run(sets, seeds=repeats)
    with tempfile.TemporaryDirectory() as tmp:  # three small sets, same code path
        for name in QUICK_ADBENCH:
            (Path(tmp) / f"{name}.npz").symlink_to(sets / f"{name}.npz")
        return anomaly_adbench.run(Path(tmp), seeds=1)


def run_large_table(data: Path, quick: bool, repeats: int) -> dict[str, Any]:
    import large_table

    if quick:
        return large_table.run(n_rows=20_000, repeats=1)
    return large_table.run(repeats=max(1, repeats))


def run_denoising(data: Path, quick: bool, repeats: int) -> dict[str, Any]:
    import denoising_mnist

    (X_train, _), (X_test, _) = _mnist(data, images=True)
    if quick:
        return denoising_mnist.run(X_train[:2000], X_test[:500], epochs=4)
    seeds = tuple(range(max(1, repeats)))
    return denoising_mnist.run(X_train, X_test, epochs=denoising_mnist.EPOCHS, seeds=seeds)


def run_inference(data: Path, quick: bool, repeats: int) -> Any:
    import inference

    return inference.run(20_000 if quick else 1_000_000, repeats=1 if quick else repeats)


def run_profile(data: Path, quick: bool, repeats: int) -> dict[str, Any]:
    import loop_profile

    (X_train, _), _ = _mnist(data, images=False)
    if quick:
        return loop_profile.run(X_train[:3000], epochs=2, repeats=1)
    return loop_profile.run(X_train, epochs=3, repeats=repeats)


def run_tables(data: Path, quick: bool, repeats: int) -> dict[str, Any]:
    import tables

    if quick:
        return tables.run(data, n_rows=3000, seeds=1)
    return tables.run(data, n_rows=20_000, seeds=max(1, repeats))


def run_threads(data: Path, quick: bool, repeats: int) -> dict[str, Any]:
    import threads

    return threads.run(data, rounds=1 if quick else max(1, repeats))


def run_mnist_oneclass(data: Path, quick: bool, repeats: int) -> dict[str, Any]:
    import mnist_oneclass

    (X_train, y_train), (X_test, y_test) = _mnist(data, images=True)
    if quick:  # two digits on a slice, same code path
        return mnist_oneclass.run(
            ((X_train[:6000], y_train[:6000]), (X_test[:1000], y_test[:1000])), [0, 1], seeds=1
        )
    return mnist_oneclass.run(((X_train, y_train), (X_test, y_test)), seeds=repeats)


def run_timeseries(data: Path, quick: bool, repeats: int) -> dict[str, Any]:
    import timeseries

    return timeseries.run(data / "timeseries", quick=quick)


RUNNERS: dict[str, Callable[[Path, bool, int], Any]] = {
    "speed": run_speed,
    "quality": run_quality,
    "anomaly": run_anomaly,
    "large_table": run_large_table,
    "mnist_oneclass": run_mnist_oneclass,
    "denoising": run_denoising,
    "inference": run_inference,
    "profile": run_profile,
    "tables": run_tables,
    "threads": run_threads,
    "timeseries": run_timeseries,
}


def _issue_19_bars(anomaly: dict[str, Any]) -> list[dict[str, Any]]:
    """Best mean rank by each measure, AP above IsolationForest's, 3x its time."""
    ranks, means = anomaly["mean_rank"], anomaly["means"]
    out = []
    for metric, label in (("roc_auc", "ROC-AUC"), ("ap", "AP")):
        others = {m: r[metric] for m, r in ranks.items() if m != "aekit"}
        best = min(others, key=others.get) if others else None
        out.append(
            {
                "bar": f"aekit's mean rank by {label} the best of every method's",
                "measured": f"aekit {ranks['aekit'][metric]:.2f}"
                + (f" vs best other ({best}) {others[best]:.2f}" if best else ""),
                "pass": all(ranks["aekit"][metric] < v for v in others.values()),
            }
        )
    if "IsolationForest" in means:
        forest = means["IsolationForest"]
        out.append(
            {
                "bar": "aekit's mean ADBench AP above IsolationForest's",
                "measured": f"{means['aekit']['ap']:.3f} vs {forest['ap']:.3f}",
                "pass": means["aekit"]["ap"] > forest["ap"],
            }
        )
        if "total_seconds" in forest:
            ratio = means["aekit"]["total_seconds"] / forest["total_seconds"]
            out.append(
                {
                    "bar": "aekit's fit and score time over the twenty sets within 3x "
                    "IsolationForest's",
                    "measured": f"{ratio:.1f}x ({means['aekit']['total_seconds']:.1f} s vs "
                    f"{forest['total_seconds']:.1f} s)",
                    "pass": ratio <= 3.0,
                }
            )
    return out


def bars(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Issue 6's bars (and the claims the other tables support), each with its measure."""
    out: list[dict[str, Any]] = []
    if "speed" in results:
        s = results["speed"]
        out.append(
            {
                "bar": "aekit epoch time <= 1.0x the minimal PyTorch loop's",
                "measured": f"{s['aekit_vs_minimal']:.2f}x",
                "pass": s["aekit_vs_minimal"] <= 1.0,
            }
        )
        if s.get("keras_vs_aekit") is not None:
            out.append(
                {
                    "bar": "aekit at least 2x faster than Keras 3 fit",
                    "measured": f"{s['keras_vs_aekit']:.2f}x",
                    "pass": s["keras_vs_aekit"] >= 2.0,
                }
            )
    if "anomaly" in results:
        means = {m: v["roc_auc"] for m, v in results["anomaly"]["means"].items()}
        others = {k: v for k, v in means.items() if k != "aekit"}
        best = max(others, key=others.get) if others else None
        out.append(
            {
                "bar": "aekit's mean ADBench ROC-AUC above every other method's",
                "measured": f"aekit {means['aekit']:.3f}"
                + (f" vs best other ({best}) {others[best]:.3f}" if best else ""),
                "pass": all(means["aekit"] > v for v in others.values()),
            }
        )
        out += _issue_19_bars(results["anomaly"])
    if "large_table" in results:
        import large_table

        out.append(large_table.bar(results["large_table"]))
    if "mnist_oneclass" in results:
        import mnist_oneclass

        out += mnist_oneclass.bars(results["mnist_oneclass"])
    if "timeseries" in results:
        import timeseries

        out += timeseries.bars(results["timeseries"])
    if "quality" in results:
        worse = [
            f"{kind} at latent {row['latent']}"
            for row in results["quality"]["mse"]
            for kind in ("aekit dense", "aekit conv")
            if statistics.median(row[kind]) >= row["PCA"][0]
        ]
        out.append(
            {
                "bar": "(claim) aekit's held-out MSE below PCA's at every latent size",
                "measured": "all below" if not worse else "not below: " + ", ".join(worse),
                "pass": not worse,
            }
        )
        knn = {k: statistics.median(v) for k, v in results["quality"]["knn_2d"].items()}
        best_ae = max(v for k, v in knn.items() if k != "PCA")
        out.append(
            {
                "bar": "(claim) 2-D k-NN accuracy of aekit codes above PCA's",
                "measured": f"{best_ae:.3f} vs {knn['PCA']:.3f}",
                "pass": best_ae > knn["PCA"],
            }
        )
        out += _conv_bars(results["quality"], knn)
    if "threads" in results:
        chosen = [r for r in results["threads"]["rows"] if r["setting"] == "aekit's choice"]
        out.append(
            {
                "bar": "beside one busy process, aekit demo and an MNIST epoch take at most "
                "1.5x their idle time",
                "measured": ", ".join(f"{r['job']} {r['ratio']:.2f}x" for r in chosen),
                "pass": all(r["ratio"] <= 1.5 for r in chosen),
            }
        )
    if "tables" in results:
        shop = {
            r["configuration"]: r["roc_auc"]
            for r in results["tables"]["rows"]
            if r["data"] == "shop"
        }
        others = max(v for k, v in shop.items() if k != "roles")
        out.append(
            {
                "bar": "(claim) night-time orders: ROC-AUC with column roles above the raw "
                "timestamp as categories or left out",
                "measured": f"{shop['roles']:.3f} vs {others:.3f}",
                "pass": shop["roles"] > others,
            }
        )
    if "denoising" in results and "scores" in results["denoising"]:
        conv = results["denoising"]["scores"]["aekit conv defaults, latent 32"]
        psnr, ssim = statistics.median(conv["psnr"]), statistics.median(conv["ssim"])
        out.append(
            {
                "bar": "the default conv denoiser, noise 0.5: at least 20 dB PSNR on the test "
                "images (SSIM reported)",
                "measured": f"{psnr:.2f} dB (min {min(conv['psnr']):.2f}), SSIM {ssim:.3f}",
                "pass": psnr >= 20.0,
            }
        )
    if "inference" in results:
        by_method = {r["method"]: r for r in results["inference"]}
        default = by_method.get("aekit decision_function")
        floor = by_method.get("matmul floor")
        if default is not None and floor is not None:
            share = default["rows_per_second"] / floor["rows_per_second"]
            out.append(
                {
                    "bar": "the default detector's decision_function: at least 1,000,000 rows/s "
                    "on 1M x 30",
                    "measured": f"{default['rows_per_second']:,.0f} rows/s "
                    f"({default.get('engine')}), {share:.0%} of the networks' matmul floor "
                    f"({floor['rows_per_second']:,.0f})",
                    "pass": default["rows_per_second"] >= 1_000_000,
                }
            )
    if "denoising" in results:
        gain = results["denoising"]["psnr_gain_db"]
        out.append(
            {
                "bar": "(claim) the default conv denoiser beats the seed network in PSNR",
                "measured": f"{gain:+.2f} dB",
                "pass": gain > 0,
            }
        )
    return out


def _conv_bars(quality: dict[str, Any], knn: dict[str, float]) -> list[dict[str, Any]]:
    """Issue 20's bars on the conv kind: error at latent 32, 2-D codes, epoch time."""
    rows = {row["latent"]: row for row in quality["mse"]}
    if 32 not in rows or "aekit conv" not in knn:
        return []
    row = rows[32]
    pca, conv, dense = (statistics.median(row[k]) for k in ("PCA", "aekit conv", "aekit dense"))
    seconds = statistics.median(row["aekit conv s/epoch"])
    return [
        {
            "bar": "conv, latent 32: held-out MSE at most 0.25x PCA(32)'s and below dense's",
            "measured": f"{conv / pca:.3f}x PCA (worst seed {max(row['aekit conv']) / pca:.3f}x)"
            f", dense {dense / pca:.3f}x",
            "pass": conv <= 0.25 * pca and conv < dense,
        },
        {
            "bar": "conv, latent 2: 5-NN accuracy of the codes above dense's",
            "measured": f"{knn['aekit conv']:.3f} vs {knn['aekit dense']:.3f}",
            "pass": knn["aekit conv"] > knn["aekit dense"],
        },
        {
            "bar": "conv: an MNIST epoch within 60 s on this machine",
            "measured": f"{seconds:.1f} s, {row['aekit conv parameters']:,} parameters",
            "pass": seconds <= 60.0,
        },
    ]


def _machine() -> dict[str, Any]:
    try:
        commit = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "commit": commit,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cpu": cpu,
        "cores": os.cpu_count(),
        "threads": torch.get_num_threads(),
        "command": " ".join(["python -m bench", *sys.argv[1:]]),
    }


def markdown(report: dict[str, Any]) -> str:
    import importlib

    m = report["machine"]
    lines = [
        "# aekit benchmarks",
        "",
        f"Measured {m['date']} at commit `{m['commit']}` with `{m['command']}`: torch "
        f"{m['torch']}, {m['threads']} threads on {m['cores']} cores ({m['cpu']}). Each side "
        "of a comparison ran in the same process run on the same data and threads; figures "
        "are medians over repeats with their range where repeated.",
        "",
        "## Bars",
        "",
        "| bar | measured | |",
        "|---|---|---|",
    ]
    for bar in report["bars"]:
        lines.append(f"| {bar['bar']} | {bar['measured']} | {'PASS' if bar['pass'] else 'FAIL'} |")
    titles = {
        "speed": ("Training speed", "speed"),
        "quality": ("Reconstruction quality and latent structure", "quality"),
        "anomaly": ("Anomaly detection on ADBench", "anomaly_adbench"),
        "large_table": ("A large table", "large_table"),
        "mnist_oneclass": ("Images: MNIST one-class", "mnist_oneclass"),
        "denoising": ("Denoising", "denoising_mnist"),
        "inference": ("Inference", "inference"),
        "profile": ("Where the training time goes", "loop_profile"),
        "tables": ("Tables as people have them: column roles", "tables"),
        "threads": ("Threads on a shared machine", "threads"),
        "timeseries": ("Time series: SKAB and NAB", "timeseries"),
    }
    for name in SECTIONS:
        if name not in report["results"]:
            continue
        title, module = titles[name]
        section = importlib.import_module(module).markdown(report["results"][name])
        seconds, when = report["seconds"][name], report["measured"][name]
        stamp = f"{seconds:.0f} s of wall time"
        if when["commit"] != m["commit"] or when["command"] != m["command"]:
            stamp += f"; measured {when['date']} at `{when['commit']}` by `{when['command']}`"
        lines += ["", f"## {title}", "", f"*{stamp}.*", "", section]
        if name in report["plots"]:
            lines += ["", f"![{title}]({report['plots'][name]})"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--only",
        help=f"comma-separated subset of {','.join(SECTIONS)}; the other sections of an "
        "earlier benchmarks.json in --out are kept",
    )
    parser.add_argument("--quick", action="store_true", help="small slices: a smoke run")
    parser.add_argument("--repeats", type=int, default=3, help="rounds or seeds per figure")
    parser.add_argument("--data", help="folder with mnist/ and adbench/ (default $AEKIT_DATA)")
    parser.add_argument("--out", help="output folder (default docs/, build/bench-quick/ quick)")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's)")
    parser.add_argument(
        "--render", action="store_true", help="only rewrite benchmarks.md from benchmarks.json"
    )
    args = parser.parse_args(argv)
    if args.render:
        out = Path(args.out) if args.out else REPO / "docs"
        report = json.loads((out / "benchmarks.json").read_text())
        report["bars"] = bars(report["results"])
        _write(out / "benchmarks.md", markdown(report))
        print(f"wrote {out / 'benchmarks.md'}")
        return 0

    chosen = args.only.split(",") if args.only else list(SECTIONS)
    unknown = [name for name in chosen if name not in SECTIONS]
    if unknown:
        parser.error(f"unknown sections {unknown}; choose from {list(SECTIONS)}")
    if args.threads:
        torch.set_num_threads(args.threads)
    data = data_dir(args.data)
    if not (data / "mnist" / "mnist.npz").is_file():
        parser.error(f"no mnist/mnist.npz under {data}; pass --data or set AEKIT_DATA")
    default_out = REPO / ("build/bench-quick" if args.quick else "docs")
    out = Path(args.out) if args.out else default_out
    out.mkdir(parents=True, exist_ok=True)

    import plots

    machine = _machine()
    report: dict[str, Any] = {"results": {}, "seconds": {}, "plots": {}, "measured": {}}
    previous = out / "benchmarks.json"
    if args.only and previous.is_file():  # keep the sections not run this time
        kept = json.loads(previous.read_text())
        for key in report:
            report[key] = {k: v for k, v in kept.get(key, {}).items() if k not in chosen}
    report["machine"] = machine
    for name in chosen:
        print(f"== {name}", flush=True)
        started = time.perf_counter()
        report["results"][name] = RUNNERS[name](data, args.quick, args.repeats)
        report["seconds"][name] = time.perf_counter() - started
        report["measured"][name] = {k: machine[k] for k in ("date", "commit", "command")}
        figure = plots.draw(name, report["results"][name], out / f"bench_{name}.png")
        if figure is not None:
            report["plots"][name] = figure.name
    report["bars"] = bars(report["results"])
    _write(out / "benchmarks.json", json.dumps(report, indent=2, default=float) + "\n")
    _write(out / "benchmarks.md", markdown(report))
    for bar in report["bars"]:
        print(f"{'PASS' if bar['pass'] else 'FAIL'}  {bar['bar']}: {bar['measured']}")
    print(f"wrote {out / 'benchmarks.md'} and {out / 'benchmarks.json'}")
    return 0


def _write(path: Path, text: str) -> None:
    """Atomic: a run that dies leaves the previous results whole."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    tmp.replace(path)


if __name__ == "__main__":
    sys.exit(main())
