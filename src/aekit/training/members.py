"""Training an ensemble's members together, as one ``MemberStack``.

What ``train`` needs to treat the members as one network while each keeps what it would
have alone: ``MemberBatches`` gives every member its own rows, shuffled by its own
generator; ``MemberEarlyStopping`` keeps each member's best epoch by its own loss and
stops each after its own patience; ``member_history`` is one member's part of the stack's
history, as its own ``History``; ``each_member`` calls ``fn(history, network)`` callbacks
once per member, as they are called for a network trained alone.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from aekit.models.base import BaseAE
from aekit.models.stacked import MemberStack, member_term
from aekit.training.callbacks import Callback, EarlyStopping, EpochEnd
from aekit.training.history import History


class MemberBatches:
    """Mini-batches ``(M, B, ...)`` of ``M`` members: member ``k`` reads the rows
    ``rows[k]`` of ``x``, in the order ``TensorBatches(x[rows[k]], batch_size,
    generator=generators[k])`` gives them (one ``index_select`` per batch for all)."""

    def __init__(
        self,
        x: Tensor,
        rows: Tensor,
        batch_size: int,
        *,
        shuffle: bool = True,
        generators: Sequence[torch.Generator] = (),
    ) -> None:
        if rows.ndim != 2 or rows.shape[1] < 1:
            raise ValueError(f"rows must be (members, rows per member), got {tuple(rows.shape)}")
        if shuffle and len(generators) != len(rows):
            raise ValueError(f"{len(rows)} members need as many generators, got {len(generators)}")
        self.x, self.rows, self.batch_size = x, rows.to(x.device), batch_size
        self.shuffle, self.generators = shuffle, list(generators)

    def __len__(self) -> int:
        return math.ceil(self.rows.shape[1] / self.batch_size)

    def __iter__(self) -> Iterator[Tensor]:
        n_members, n = self.rows.shape
        rows = self.rows
        if self.shuffle:
            rows = torch.stack(
                [
                    member[torch.randperm(n, generator=g, device=g.device)]
                    for member, g in zip(self.rows, self.generators, strict=True)
                ]
            )
        for lo in range(0, n, self.batch_size):
            index = rows[:, lo : lo + self.batch_size]
            batch = self.x.index_select(0, index.reshape(-1))
            yield batch.view(n_members, index.shape[1], *self.x.shape[1:])


class MemberEarlyStopping(EarlyStopping):
    """``EarlyStopping`` for each member of a stack by its own loss term: its best epoch's
    weights are kept in its slice of ``best_state``, and it stops after ``patience`` epochs
    without progress of its own. Training stops when every member has."""

    def __init__(self, patience: int | None, n_members: int, min_delta: float = 1e-4) -> None:
        super().__init__(patience, min_delta)
        self.n_members = n_members
        self.best: list[float] = [math.inf] * n_members  # type: ignore[assignment]
        self.best_epochs: list[int | None] = [None] * n_members
        self.stopped_at: list[int | None] = [None] * n_members  # epochs done when it stopped
        self.stopped_early = [False] * n_members

    def __call__(self, history: History, model: nn.Module) -> bool:
        terms = history.val_terms if history.val_loss else history.train_terms
        epoch = history.n_epochs - 1
        best, improved = list(self.best), []
        for k in range(self.n_members):
            if self.stopped_at[k] is not None:
                continue
            loss = terms[member_term(k)][-1]
            best_epoch = self.best_epochs[k]
            better = loss < best[k] * (1 - self.min_delta) or best_epoch is None
            if better and math.isfinite(loss):
                best[k], self.best_epochs[k], best_epoch = loss, epoch, epoch
                improved.append(k)
            waited = epoch - (best_epoch if best_epoch is not None else -1)
            if self.patience is not None and waited > self.patience:
                self.stopped_at[k], self.stopped_early[k] = epoch + 1, True
        if improved:  # a new best state, as EarlyStopping does: a captured one never changes
            weights = {name: v.detach() for name, v in model.state_dict().items()}
            state = self.best_state if self.best_state is not None else weights
            self.best_state = {name: v.clone() for name, v in state.items()}
            for name, value in weights.items():
                self.best_state[name][improved] = value[improved]
        self.best = best  # type: ignore[assignment]
        kept = [e for e in self.best_epochs if e is not None]
        history.best_epoch = max(kept) if kept else None
        history.stopped_early = all(self.stopped_early)
        return self.all_stopped

    def halt(self, k: int, epochs: int) -> None:
        """Member ``k`` stops after ``epochs`` epochs (a callback asked for it)."""
        if self.stopped_at[k] is None:
            self.stopped_at[k] = epochs

    @property
    def all_stopped(self) -> bool:
        return all(s is not None for s in self.stopped_at)

    def bookkeeping(self) -> dict[str, Any] | None:
        return {
            "best_epochs": list(self.best_epochs),
            "stopped_at": list(self.stopped_at),
            "stopped_early": list(self.stopped_early),
        }

    def load_bookkeeping(self, saved: dict[str, Any] | None) -> None:
        if saved is not None:
            self.best_epochs = list(saved["best_epochs"])
            self.stopped_at = list(saved["stopped_at"])
            self.stopped_early = list(saved["stopped_early"])


def member_history(history: History, k: int, stopping: MemberEarlyStopping) -> History:
    """Member ``k``'s own history: its loss term of the stack's, up to the epoch it stopped,
    and its share of the stack's training time."""
    name = member_term(k)
    epochs = stopping.stopped_at[k] or history.n_epochs
    train = history.train_terms.get(name, [])[:epochs]
    val = history.val_terms.get(name, [])[:epochs]
    return History(
        train_loss=list(train),
        val_loss=list(val),
        train_terms={"reconstruction": list(train)},
        val_terms={"reconstruction": list(val)} if val else {},
        learning_rate=history.learning_rate[:epochs],
        best_epoch=stopping.best_epochs[k],
        stopped_early=stopping.stopped_early[k],
        interrupted=history.interrupted and stopping.stopped_at[k] is None,
        fit_seconds=history.fit_seconds / stopping.n_members,  # its share of the stack's
    )


def each_member(
    fns: Sequence[Callable[[History, nn.Module], bool]],
    stack: MemberStack,
    networks: Sequence[BaseAE],
    stopping: MemberEarlyStopping,
) -> Callback:
    """One loop callback calling each ``fn(history, network)`` for every member still
    training, with its own history and current weights; True stops that member."""

    def call(end: EpochEnd) -> bool:
        for k, network in enumerate(networks):
            stopped = stopping.stopped_at[k]
            if stopped is not None and stopped < end.epoch:
                continue
            network.load_state_dict(stack.member_state(k))
            history = member_history(end.history, k, stopping)
            if any([bool(fn(history, network)) for fn in fns]):  # every one is called
                stopping.halt(k, end.epoch)
        return stopping.all_stopped

    return call
