"""Training a detector's members at once, as one ``MemberStack``.

Each member keeps what it would have trained alone: its rows, its seed (initial weights
and shuffling), its batch size, learning-rate schedule, gradient clipping, best epoch and
early stopping. Only the arithmetic is shared: one batched matrix product per layer for
all members instead of one small product per member, which is where an ensemble of small
networks spends its time. With dropout and input noise off, the members come out as they
would one by one, to float rounding.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch
from numpy.typing import NDArray

from aekit.estimators._runs import RowSplit, TrainingRun
from aekit.models import BaseAE, ModelConfig, build_model
from aekit.models.stacked import MemberStack
from aekit.training import History, distributed, resolve_device, train
from aekit.training.callbacks import Callback, Checkpoint, ProgressBar
from aekit.training.checkpoint import LoopState
from aekit.training.members import MemberBatches, MemberEarlyStopping, each_member, member_history

if TYPE_CHECKING:
    from aekit.estimators.autoencoder import Autoencoder


@functools.lru_cache(maxsize=64)
def stacks(kind: str, config: ModelConfig) -> bool:
    """Whether members of ``kind`` and ``config`` train together (plain dense networks)."""
    with torch.device("meta"):  # the structure alone: nothing is allocated
        network = build_model(kind, config, init="torch")
    return MemberStack.of([network]) is not None


def train_together(
    members: Sequence[Autoencoder],
    x_train: NDArray[np.float32],
    rows: Sequence[NDArray[np.intp]],
    splits: Sequence[RowSplit],
    run: TrainingRun,
    callbacks: Sequence[Callable[[History, torch.nn.Module], bool]] = (),
    resume_weights: Sequence[dict[str, torch.Tensor]] | None = None,
) -> History:
    """Train ``members`` (with their inputs fitted) as one stack and give each its
    network (``model_``, best weights) and its own ``history_``; return the stack's history.

    Member ``k`` trains on ``x_train[rows[k]]``, split by ``splits[k]``. ``callbacks`` are
    called as ``fn(history, network)`` for each member after each epoch; ``run`` carries
    the stop request, the checkpoint writer (called with every member holding its current
    weights and history) and the loop state to resume with ``resume_weights``.
    """
    first = members[0]
    device = distributed.setup(resolve_device(first.device))
    config = first._model_config()
    seeds = [split.seed for split in splits]
    x = torch.from_numpy(x_train.reshape(len(x_train), *first._model_input_shape())).to(device)

    def member_rows(part: str) -> torch.Tensor:
        chosen = [getattr(split, part) for split in splits]
        return torch.stack(
            [torch.from_numpy(r if c is None else r[c]) for r, c in zip(rows, chosen, strict=True)]
        )

    batches = MemberBatches(
        x,
        member_rows("train"),
        splits[0].batch_size,
        generators=[torch.Generator(device).manual_seed(seed) for seed in seeds],
    )
    validation = None
    if splits[0].validation is not None:
        from aekit.estimators.autoencoder import INFERENCE_BATCH

        validation = MemberBatches(x, member_rows("validation"), INFERENCE_BATCH, shuffle=False)
    settings = first._train_settings(device, seeds[0], config)
    cuda = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda):
        networks = [
            member._new_network(config, seed) for member, seed in zip(members, seeds, strict=True)
        ]
        stack = MemberStack.of(networks)
        if stack is None:
            raise ValueError(f"kind={first.kind!r} members do not train together")
        if resume_weights is not None:
            stack.load_members(resume_weights)
        stack.to(device)
        stopping = MemberEarlyStopping(settings.patience, len(members))
        loop_callbacks: list[Callback] = []
        if callbacks:
            loop_callbacks.append(each_member(callbacks, stack, networks, stopping))
        bar = None
        if first.verbose and distributed.is_main():
            bar = ProgressBar(settings.max_epochs, description=run.label)
            loop_callbacks.append(bar)
        if run.checkpoint is not None and distributed.is_main():
            write = run.checkpoint

            def checkpoint(state: LoopState) -> None:
                _hand_out(stack, networks, members, state.history, stopping)
                write(state)

            loop_callbacks.append(Checkpoint(checkpoint, run.checkpoint_every))
        torch.manual_seed(seeds[0])  # dropout draws from here
        try:
            history = train(
                stack,
                batches,
                settings,
                validation=validation,
                callbacks=loop_callbacks,
                resume=None if run.resume is None else run.resume.loop,
                stop=run.stop,
                early_stopping=stopping,
            )
        finally:
            if bar is not None:
                bar.close()
    _hand_out(stack, networks, members, history, stopping)
    return history


def _hand_out(
    stack: MemberStack,
    networks: Sequence[BaseAE],
    members: Sequence[Autoencoder],
    history: History,
    stopping: MemberEarlyStopping,
) -> None:
    """Give each member its network, with the stack's weights for it, and its history."""
    stack.unstack_into(networks)
    for k, (member, network) in enumerate(zip(members, networks, strict=True)):
        member.model_ = network.eval()
        member._n_features_out = member.latent_dim
        member.history_ = member_history(history, k, stopping)
