"""Where aekit's training time goes, and what each choice in its loop buys.

Two measurements on the classic 784-128-64-32 network (BCE, Adam, batch 256) on MNIST:

1. ``torch.profiler`` over aekit's training: the operators with the most self CPU time, and
   the shares of forward, backward, optimizer and data handling.
2. An ablation, in one run: aekit as shipped, next to variants that each undo one of its
   choices (the optimisations a hand-written loop does not make, or makes worse): a host sync
   per step (``loss.item()``), a shuffled copy of the whole data set each epoch (what aekit
   did before: batches are now gathered one ``index_select`` at a time), AdamW's multi-tensor
   (foreach) and per-parameter (for-loop) implementations instead of the fused kernel, a
   ``DataLoader`` over a ``TensorDataset`` instead of batches sliced from the in-memory
   tensor, ``torch.compile`` of the loss step (which aekit does not do: see the figure), and
   one thread instead of all. Steady-state
   seconds per epoch: the first epoch (warm-up, compilation) is not counted. Each figure is a
   median over rounds; the variants run in turn, a different one first each round.

    python bench/loop_profile.py --epochs 3 --repeats 3
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import data_dir, median_spread
from classic_mnist import CLASSIC, minimal_loop

import aekit.estimators.autoencoder as estimator_module
import aekit.training.loop as loop_module
from aekit import Autoencoder
from aekit.datasets import load_mnist


def _epoch_seconds(X: np.ndarray, epochs: int, seed: int) -> tuple[float, float]:
    """Seconds of the first epoch (from ``fit``'s call), and the median of epochs 2..N
    (N >= 2), of the classic network trained by aekit."""
    stamps: list[float] = []
    model = Autoencoder(**CLASSIC, max_epochs=epochs, random_state=seed)
    started = time.perf_counter()
    model.fit(X, callbacks=[lambda history, network: stamps.append(time.perf_counter())])
    return stamps[0] - started, statistics.median(b - a for a, b in itertools.pairwise(stamps))


def _optimizer(**kwargs: Any) -> Callable[..., torch.optim.Optimizer]:
    def make(model: torch.nn.Module, settings: loop_module.TrainSettings) -> torch.optim.Optimizer:
        return torch.optim.AdamW(
            model.parameters(),
            lr=settings.learning_rate,
            weight_decay=settings.weight_decay,
            **kwargs,
        )

    return make


class _DataLoaderBatches:
    """What many hand-written loops do: a DataLoader over a TensorDataset."""

    def __init__(self, x: torch.Tensor, batch_size: int, **kwargs: Any) -> None:
        dataset = torch.utils.data.TensorDataset(x)
        shuffle = kwargs.get("shuffle", True)
        self.loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=shuffle)
        self.generator = None

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self) -> Iterator[torch.Tensor]:
        return (batch for (batch,) in self.loader)


def _copy_each_epoch(self: Any) -> Iterator[torch.Tensor]:
    """aekit's batches before this benchmark: a shuffled copy of the whole tensor per epoch."""
    order = torch.randperm(len(self.x), generator=self.generator)
    return iter(torch.split(self.x[order], self.batch_size))


def _wrapped_model(wrap: Callable[[Any], None]) -> Callable[..., Any]:
    original = estimator_module.build_model

    def build(kind: str, config: Any, **kwargs: Any) -> Any:
        model = original(kind, config, **kwargs)
        wrap(model)
        return model

    return build


def _sync_each_step(model: Any) -> None:
    step = model.training_loss

    def synced(x_in: torch.Tensor, x: torch.Tensor) -> dict[str, torch.Tensor]:
        terms = step(x_in, x)
        terms["loss"].item()  # what a loop that logs every step does
        return terms

    model.training_loss = synced


def _compiled(model: Any) -> None:
    model.training_loss = torch.compile(model.training_loss)


@contextlib.contextmanager
def _threads(n: int) -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


VARIANTS: dict[str, Callable[[], contextlib.AbstractContextManager[Any]]] = {
    "aekit as shipped": contextlib.nullcontext,
    "+ host sync every step": lambda: mock.patch.object(
        estimator_module, "build_model", _wrapped_model(_sync_each_step)
    ),
    "AdamW foreach instead of fused": lambda: mock.patch.object(
        loop_module, "make_optimizer", _optimizer(foreach=True)
    ),
    "AdamW for-loop instead of fused": lambda: mock.patch.object(
        loop_module, "make_optimizer", _optimizer(foreach=False)
    ),
    "shuffled copy per epoch (aekit before)": lambda: mock.patch.object(
        loop_module.TensorBatches, "__iter__", _copy_each_epoch
    ),
    "DataLoader instead of tensor batches": lambda: mock.patch.object(
        estimator_module, "TensorBatches", _DataLoaderBatches
    ),
    "+ torch.compile of the loss step": lambda: mock.patch.object(
        estimator_module, "build_model", _wrapped_model(_compiled)
    ),
    "one thread": lambda: _threads(1),
}


def ablation(
    X: np.ndarray, epochs: int, repeats: int, variants: list[str] | None = None
) -> dict[str, Any]:
    """Steady-state seconds per epoch of each variant (lists over rounds)."""
    names = variants or list(VARIANTS)
    times: dict[str, list[float]] = {name: [] for name in names}
    first: dict[str, list[float]] = {name: [] for name in names}
    times["minimal PyTorch loop"] = []
    _epoch_seconds(X[:2048], 2, seed=0)  # warm up
    for r in range(repeats):
        times["minimal PyTorch loop"].append(minimal_loop(torch.from_numpy(X), epochs, seed=r)[1])
        for name in names[r % len(names) :] + names[: r % len(names)]:  # take turns first
            with VARIANTS[name]():
                first_epoch, steady = _epoch_seconds(X, epochs, seed=r)
                times[name].append(steady)
                first[name].append(first_epoch)
            print(f"round {r}, {name}: {times[name][-1]:.3f} s/epoch", flush=True)
    shipped = statistics.median(times["aekit as shipped"])
    return {
        "rows": len(X),
        "epochs": epochs,
        "repeats": repeats,
        "threads": torch.get_num_threads(),
        "seconds": times,
        "first_epoch_seconds": first,
        "vs_shipped": {name: statistics.median(v) / shipped for name, v in times.items()},
    }


def profile_steps(X: np.ndarray, epochs: int = 1) -> dict[str, Any]:
    """Top operators by self CPU time over ``epochs`` of aekit's training, and phase shares."""
    from torch.profiler import ProfilerActivity, profile

    Autoencoder(**CLASSIC, max_epochs=1, random_state=0).fit(X[:2048])  # warm up
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        Autoencoder(**CLASSIC, max_epochs=epochs, random_state=0).fit(X)
    events = prof.key_averages()
    total = sum(e.self_cpu_time_total for e in events)
    top = sorted(events, key=lambda e: e.self_cpu_time_total, reverse=True)[:12]
    phases = {  # inclusive times of the loop's top-level events
        "optimizer step": _inclusive(events, lambda k: k.startswith("Optimizer.step")),
        "zero_grad": _inclusive(events, lambda k: k.startswith("Optimizer.zero_grad")),
        "backward": _inclusive(events, lambda k: k.startswith("autograd::engine::evaluate")),
        "gradient clipping": _inclusive(events, lambda k: k == "aten::_foreach_norm"),
        "batching": _inclusive(events, lambda k: k in ("aten::index_select", "aten::randperm")),
    }
    phases["forward and the rest"] = max(0.0, total - sum(phases.values()))
    return {
        "top": [
            {
                "op": e.key,
                "self_ms": e.self_cpu_time_total / 1000,
                "share": e.self_cpu_time_total / total,
                "calls": e.count,
            }
            for e in top
        ],
        "phases": {name: value / total for name, value in phases.items()},
        "total_ms": total / 1000,
    }


def _inclusive(events: Any, match: Callable[[str], bool]) -> float:
    return float(sum(e.cpu_time_total for e in events if match(e.key)))


def run(X: np.ndarray, epochs: int, repeats: int) -> dict[str, Any]:
    return {"profile": profile_steps(X), "ablation": ablation(X, epochs, repeats)}


def markdown(result: dict[str, Any]) -> str:
    prof, abl = result["profile"], result["ablation"]
    lines = [
        f"### Profile: one epoch of aekit on {abl['rows']:,} MNIST rows "
        f"({prof['total_ms'] / 1000:.2f} s of operator self time)",
        "",
        "Shares of operator time (inclusive; the first epoch of the minimal loop in the "
        "ablation includes its warm-up): "
        + ", ".join(f"{name} {share:.0%}" for name, share in prof["phases"].items()),
        "",
        "| operator | self ms | share | calls |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| `{t['op']}` | {t['self_ms']:.0f} | {t['share']:.1%} | {t['calls']:,} |"
        for t in prof["top"]
    ]
    lines += [
        "",
        f"### Ablation: steady-state seconds per epoch, median (min-max) over "
        f"{abl['repeats']} rounds, {abl['threads']} threads",
        "",
        "| variant | s/epoch | x aekit as shipped | first epoch s (fit's set-up included) |",
        "|---|---|---|---|",
    ]
    for name, values in abl["seconds"].items():
        first = abl.get("first_epoch_seconds", {}).get(name)
        lines.append(
            f"| {name} | {median_spread(values)} | {abl['vs_shipped'][name]:.2f} | "
            f"{median_spread(first) if first else ''} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data")
    parser.add_argument("--epochs", type=int, default=3, help="per variant; the first is warm-up")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rows", type=int, default=60000)
    args = parser.parse_args()
    (X_train, _), _ = load_mnist(data_dir(args.data) / "mnist" / "mnist.npz", images=False)
    print(markdown(run(X_train[: args.rows], args.epochs, args.repeats)))


if __name__ == "__main__":
    main()
