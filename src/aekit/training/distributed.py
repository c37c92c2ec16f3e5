"""Several processes, one model: DistributedDataParallel under ``torchrun``.

``torchrun`` sets ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK``; :func:`setup` then joins the
process group (``gloo`` on CPU, ``nccl`` on CUDA, one GPU per ``LOCAL_RANK``). The loop
wraps the model with :func:`wrap` (gradients averaged over ranks), trains inside
:func:`join` (ranks may see different numbers of batches) and averages its epoch losses
with :func:`mean_terms`, so early stopping decides the same on every rank. Without
``torchrun`` every function here is a no-op and training is single-process as before.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable

import torch
import torch.distributed as dist
from torch import Tensor, nn

from aekit.models.base import BaseAE
from aekit.models.stacked import MemberStack

LossFn = Callable[[Tensor, Tensor, float], dict[str, Tensor]]


def launched() -> bool:
    """Whether this process was started by ``torchrun`` with more than one rank."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def active() -> bool:
    """Whether a process group of more than one rank is running."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank_and_world() -> tuple[int, int]:
    """This process's rank and the number of ranks: (0, 1) when not distributed."""
    if active():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def is_main() -> bool:
    """Rank 0 (or the only process): the one that writes files and shows progress."""
    return rank_and_world()[0] == 0


def setup(device: torch.device) -> torch.device:
    """Join the ``torchrun`` process group if launched by it; return this rank's device.

    ``gloo`` on CPU, ``nccl`` on CUDA where each rank takes GPU ``LOCAL_RANK``. Idempotent.
    """
    if not launched():
        return device
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return device


def shutdown(*, wait: bool = True) -> None:
    """Leave the process group; ``wait`` first for every rank to get here."""
    if dist.is_available() and dist.is_initialized():
        if wait:
            dist.barrier()
        dist.destroy_process_group()


class _TrainingLoss(nn.Module):
    """``training_loss`` as ``forward``: DDP synchronises gradients through ``forward``."""

    def __init__(self, model: BaseAE | MemberStack) -> None:
        super().__init__()
        self.model = model

    def forward(self, x_in: Tensor, x: Tensor, trim_fraction: float) -> dict[str, Tensor]:
        return self.model.training_loss(x_in, x, trim_fraction)


def wrap(model: BaseAE | MemberStack, device: torch.device) -> LossFn | nn.Module:
    """The loss function the loop calls: DDP-wrapped when distributed, else the model's own.

    DDP broadcasts rank 0's initial weights, so every rank starts from the same model.
    """
    if not active():
        return model.training_loss
    ids = [device.index] if device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(_TrainingLoss(model), device_ids=ids)


def join(step: LossFn | nn.Module) -> contextlib.AbstractContextManager[object]:
    """Let ranks whose shard ran out of batches wait for the others (uneven inputs)."""
    if isinstance(step, nn.parallel.DistributedDataParallel):
        from torch.distributed.algorithms.join import Join

        return Join([step])
    return contextlib.nullcontext()


def mean_terms(totals: dict[str, Tensor], count: int) -> dict[str, float]:
    """``totals / count`` per term, summed over all ranks first when distributed."""
    if not active():
        return {name: value.item() / max(count, 1) for name, value in totals.items()}
    names = sorted(totals)
    device = totals[names[0]].device if names else torch.device("cpu")
    packed = torch.stack(
        [totals[n].detach().double().reshape(()) for n in names]
        + [torch.tensor(float(count), dtype=torch.float64, device=device)]
    )
    dist.all_reduce(packed)
    n = max(packed[-1].item(), 1.0)
    return {name: packed[i].item() / n for i, name in enumerate(names)}
