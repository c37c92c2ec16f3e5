"""``train()``: the only training loop. Every model kind trains here."""

from __future__ import annotations

import copy
import functools
import math
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from aekit.exceptions import NonFiniteLossError
from aekit.models.base import BaseAE
from aekit.models.corruption import corrupt
from aekit.models.stacked import MemberStack
from aekit.training import distributed
from aekit.training.callbacks import Callback, EarlyStopping, EpochEnd
from aekit.training.checkpoint import LoopState
from aekit.training.history import History
from aekit.training.threads import TrainingThreads

LR_SCHEDULES = ("constant", "cosine")

# what trains here: one network, or members stacked into one (batches (M, B, ...))
Trainable = BaseAE | MemberStack


@dataclass(frozen=True)
class TrainSettings:
    """How to train; the estimators build this from their parameters (and declare the
    defaults there: nothing here has one)."""

    max_epochs: int
    learning_rate: float
    weight_decay: float
    lr_schedule: str
    max_grad_norm: float | None
    patience: int | None
    noise: str | None
    noise_level: float
    noise_clip: tuple[float, float] | None  # keep corrupted values in the data's range
    trim_fraction: float  # each batch's worst samples left out of the loss
    device: torch.device
    seed: int


def resolve_device(device: str | torch.device) -> torch.device:
    """``"auto"`` means CUDA when present, else CPU; anything else is passed to torch."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(
            f"device={device!r} is not a torch device name such as 'cpu', 'cuda' or 'auto'"
        ) from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was asked for, but CUDA is not available here")
    return resolved


class TensorBatches:
    """Mini-batches over a tensor held in memory, reshuffled each pass.

    One permutation per epoch, then one ``index_select`` per batch: no per-sample Python
    work, and no shuffled copy of the whole data set (the batches equal those of
    ``x[perm].split(batch_size)`` exactly).
    """

    def __init__(
        self,
        x: Tensor,
        batch_size: int,
        *,
        shuffle: bool = True,
        generator: torch.Generator | None = None,
    ) -> None:
        self.x, self.batch_size, self.shuffle, self.generator = x, batch_size, shuffle, generator

    def __len__(self) -> int:
        return math.ceil(len(self.x) / self.batch_size)

    def __iter__(self) -> Iterator[Tensor]:
        if not self.shuffle:
            return iter(torch.split(self.x, self.batch_size))
        order = torch.randperm(
            len(self.x),
            generator=self.generator,
            device=self.generator.device if self.generator is not None else self.x.device,
        )
        indices = order.split(self.batch_size)  # type: ignore[no-untyped-call]
        return (self.x.index_select(0, index) for index in indices)


def make_optimizer(model: Trainable, settings: TrainSettings) -> torch.optim.Optimizer:
    """AdamW; the fused kernel where this torch build has it for the device."""
    fused = settings.device.type in ("cpu", "cuda")
    return torch.optim.AdamW(
        model.parameters(),
        lr=settings.learning_rate,
        weight_decay=settings.weight_decay,
        fused=fused,
    )


def train(
    model: Trainable,
    batches: Iterable[Tensor],
    settings: TrainSettings,
    *,
    validation: Iterable[Tensor] | None = None,
    callbacks: Sequence[Callback] = (),
    resume: LoopState | None = None,
    stop: threading.Event | None = None,
    early_stopping: EarlyStopping | None = None,
) -> History:
    """Fit ``model`` in place and return its loss per epoch.

    Keeps the weights of the best epoch (validation loss when given, else training loss)
    and stops after ``settings.patience`` epochs without progress (``early_stopping``, by
    default ``EarlyStopping(settings.patience)``; a stack of members brings its own).
    After each epoch every callback gets an ``EpochEnd`` (a ``Checkpoint`` among them saves
    the state ``resume`` continues from; a run that had stopped early stays stopped);
    setting ``stop`` ends training after the current step (``history.interrupted``).
    """
    model.to(settings.device)
    optimizer = make_optimizer(model, settings)
    schedule = (
        torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, settings.max_epochs)
        if settings.lr_schedule == "cosine"
        else None
    )
    noise_rng = torch.Generator(settings.device).manual_seed(settings.seed)
    if early_stopping is None:
        early_stopping = EarlyStopping(settings.patience)
    history, first_epoch = History(), 0
    if resume is not None:
        history, first_epoch = _restore(
            resume, optimizer, schedule, early_stopping, noise_rng, batches
        )
    started = time.perf_counter() - history.fit_seconds
    loss_of = distributed.wrap(model, settings.device)  # DDP under torchrun, else training_loss
    threads = TrainingThreads(model)  # what the machine can give now, asked every epoch
    try:
        last_epoch = first_epoch if history.stopped_early else settings.max_epochs
        for epoch in range(first_epoch, last_epoch):
            model.train()
            totals: dict[str, Tensor] = {}
            n_batches = 0
            with distributed.join(loss_of):  # ranks' shards may give different batch counts
                for x in batches:  # a streamed source has no len(), so count
                    threads.first_batch(batch_rows(model, x))
                    x = x.to(settings.device, non_blocking=True)
                    x_in = corrupt(
                        x, settings.noise, settings.noise_level, noise_rng, clip=settings.noise_clip
                    )
                    terms = loss_of(x_in, x, settings.trim_fraction)
                    optimizer.zero_grad(set_to_none=True)
                    terms["loss"].backward()
                    if settings.max_grad_norm is not None:
                        clip_gradients(model, settings.max_grad_norm)
                    optimizer.step()
                    for name, value in terms.items():  # summed on the device: no sync per batch
                        totals[name] = (
                            totals[name] + value.detach() if name in totals else value.detach()
                        )
                    n_batches += 1
                    if stop is not None and stop.is_set():
                        break
            if stop is not None and stop.is_set():
                history.interrupted = True  # the partial epoch is not recorded
                break
            if n_batches == 0:
                raise ValueError("the training data produced no batches")
            train_terms = distributed.mean_terms(totals, n_batches)  # averaged over ranks
            lr = optimizer.param_groups[0]["lr"]
            val_terms = evaluate(model, validation, settings) if validation is not None else None
            if not all(math.isfinite(v) for v in train_terms.values()):
                early_stopping.restore(model)
                raise NonFiniteLossError(
                    f"the training loss became {train_terms['loss']} at epoch {epoch + 1}; "
                    f"try a lower learning_rate (now {settings.learning_rate:g}) or check the data "
                    f"for extreme values"
                )
            history.record(train_terms, val_terms, lr)
            if schedule is not None:
                schedule.step()
            history.fit_seconds = time.perf_counter() - started  # callbacks may budget time
            state = (epoch + 1, history, optimizer, schedule, early_stopping, noise_rng, batches)
            end = EpochEnd(
                epoch + 1,
                history,
                model,
                stopping=early_stopping(history, model) or epoch + 1 == settings.max_epochs,
                capture=functools.partial(_capture, *state),
            )
            for callback in callbacks:  # each sees whether an earlier one asked to stop
                end.stopping = bool(callback(end)) or end.stopping
            if end.stopping:
                break
            threads.epoch_end()  # a competitor may have started or stopped
    finally:
        threads.close()
    early_stopping.restore(model)
    model.eval()
    history.fit_seconds = time.perf_counter() - started
    return history


def _capture(
    epoch: int,
    history: History,
    optimizer: torch.optim.Optimizer,
    schedule: torch.optim.lr_scheduler.LRScheduler | None,
    early_stopping: EarlyStopping,
    noise_rng: torch.Generator,
    batches: Iterable[Tensor],
) -> LoopState:
    rng = {"torch": torch.get_rng_state(), "noise": noise_rng.get_state()}
    for name, generator in _shuffle_generators(batches).items():
        rng[name] = generator.get_state()
    return LoopState(
        epoch=epoch,
        history=copy.deepcopy(history),
        optimizer=optimizer.state_dict(),
        schedule=schedule.state_dict() if schedule is not None else None,
        best=early_stopping.best,
        best_state=early_stopping.best_state,
        rng=rng,
        stopping=early_stopping.bookkeeping(),
    )


def _restore(
    state: LoopState,
    optimizer: torch.optim.Optimizer,
    schedule: torch.optim.lr_scheduler.LRScheduler | None,
    early_stopping: EarlyStopping,
    noise_rng: torch.Generator,
    batches: Iterable[Tensor],
) -> tuple[History, int]:
    optimizer.load_state_dict(state.optimizer)
    if schedule is not None and state.schedule is not None:
        schedule.load_state_dict(state.schedule)
    early_stopping.best, early_stopping.best_state = state.best, state.best_state  # type: ignore[assignment]
    early_stopping.load_bookkeeping(state.stopping)
    torch.set_rng_state(state.rng["torch"])
    noise_rng.set_state(state.rng["noise"])
    for name, generator in _shuffle_generators(batches).items():
        if name in state.rng:
            generator.set_state(state.rng[name])
    return copy.deepcopy(state.history), state.epoch


def _shuffle_generators(batches: Iterable[Tensor]) -> dict[str, torch.Generator]:
    """The generators that shuffle ``batches``, by their name in a checkpoint: "shuffle"
    for one, "shuffle.k" for each member's in a stack."""
    one = getattr(batches, "generator", None)
    if one is not None:
        return {"shuffle": one}
    several = getattr(batches, "generators", None) or []
    return {f"shuffle.{k}": generator for k, generator in enumerate(several)}


def batch_rows(model: Trainable, x: Tensor) -> int:
    """Rows in a batch: one network's first axis; each member's for a stack."""
    return model.batch_rows(x) if isinstance(model, MemberStack) else len(x)


def clip_gradients(model: Trainable, max_norm: float) -> None:
    """Clip the gradients' L2 norm to ``max_norm``: each member's own in a stack."""
    if isinstance(model, MemberStack):
        model.clip_gradients(max_norm)
    else:
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm, foreach=True)


@torch.inference_mode()
def evaluate(
    model: Trainable, batches: Iterable[Tensor], settings: TrainSettings
) -> dict[str, float]:
    """Mean loss terms over ``batches`` in eval mode; a denoiser sees the same noise each call."""
    model.eval()
    noise_rng = torch.Generator(settings.device).manual_seed(settings.seed + 1)
    totals: dict[str, Tensor] = {}
    n_samples = 0
    for x in batches:
        x = x.to(settings.device, non_blocking=True)
        x_in = corrupt(x, settings.noise, settings.noise_level, noise_rng, clip=settings.noise_clip)
        rows = batch_rows(model, x)
        terms = model.training_loss(x_in, x, settings.trim_fraction)
        for name, value in terms.items():  # weighted by batch size
            totals[name] = totals[name] + value * rows if name in totals else value * rows
        n_samples += rows
    return distributed.mean_terms(totals, n_samples)  # over every rank's validation shard
