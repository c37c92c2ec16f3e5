"""``Autoencoder``: a scikit-learn transformer around any registered model kind."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Iterable
from numbers import Integral, Real
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from aekit.data.loaders import is_table_path
from aekit.data.scaling import SCALE_METHODS, Scaler
from aekit.data.tables import TablePreprocessor, is_table
from aekit.data.validation import check_finite, validate_codes, validate_samples
from aekit.exceptions import InputError
from aekit.losses import LOSSES, OUTPUT_ACTIVATIONS
from aekit.models import BaseAE, build_model, list_models, model_class
from aekit.models._layers import ACTIVATIONS
from aekit.models.corruption import NOISE_KINDS, check_noise
from aekit.models.encoder import ScaledEncoder
from aekit.models.latent import SPARSITY_PENALTIES
from aekit.training import (
    Callback,
    History,
    ProgressBar,
    TensorBatches,
    TrainSettings,
    distributed,
    resolve_device,
    train,
)
from aekit.training.checkpoint import LoopState
from aekit.training.loop import LR_SCHEDULES

INFERENCE_BATCH = 4096  # rows per forward pass at inference: bounded memory, few calls
# scikit-learn checks that float32 networks cannot pass to the letter, with the reason
FLOAT32_CHECK_LIMITS = {
    "check_methods_subset_invariance": "float32 matrix products round differently with the "
    "batch size (about 2e-7 relative); the tests check subset invariance at 1e-5",
}
RESUMABLE = {"max_epochs", "verbose", "device"}  # may change between a checkpoint and resuming


class _KindName(StrOptions):
    """Any registered kind, including those registered after import."""

    def __init__(self) -> None:
        super().__init__(set())

    def is_satisfied_by(self, val: object) -> bool:
        return isinstance(val, str) and val in list_models()

    def __str__(self) -> str:
        return f"a str among {list_models()}"


class Autoencoder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Non-linear dimensionality reduction with a neural autoencoder.

    Works on rows ``(n_samples, n_features)`` and images ``(n_samples, H, W)`` or
    ``(n_samples, C, H, W)``. Inputs are scaled before the network and outputs unscaled
    after it, so every method speaks in the data's own units. Outputs are float32.

    **Mixed tables.** A pandas DataFrame with any non-numeric column or any gap (or any
    ``categorical=`` / ``ignore=``) goes through ``aekit.data.tables.TablePreprocessor``
    instead of ``scale``: numbers robustly scaled with a missing-indicator input for
    columns with gaps, booleans as 0/1, categories one-hot (a column with more than 20
    levels keeps its 19 most frequent, hashes its rarer ones into 8 bucket inputs, and
    every column has an ``<unseen>`` input for levels never seen in fit). Reconstructions
    come back as a DataFrame with the original columns, and per-feature errors are per
    original column (a one-hot group and a missing indicator summed into their column), in
    the scaled units the network sees.

    Parameters
    ----------
    kind : str, default="dense"
        Architecture, one of ``aekit.list_models()``: ``"dense"`` (MLP) or ``"conv"``
        (convolutional, for images).
    latent_dim : int, default=2
        Size of the code.
    hidden_dims : tuple of int, default=None
        Encoder widths between input and code (the decoder mirrors them); None picks
        halving widths from the input size. For ``conv``: dense layers after the maps.
    channels : tuple of int, default=None
        ``conv`` only: feature maps of each stride-2 convolution; None means (32, 64).
    activation : str, default="relu"
        Hidden activation: relu, leaky_relu, tanh, elu, gelu, selu, silu, ...
    latent_activation : str, default="identity"
        Activation applied to the code.
    output_activation : {"auto", "identity", "sigmoid", "tanh"}, default="auto"
        "auto": sigmoid when the scaled data lies in [0, 1] (or ``loss="bce"``), else identity.
    loss : {"mse", "bce"}, default="mse"
        Reconstruction loss; ``bce`` is computed from logits and needs data in [0, 1].
    variational : bool, default=False
        Gaussian code with the reparameterisation trick and a KL term (a VAE).
    beta : float, default=1.0
        Weight of the KL term (beta-VAE); it is divided by the values per sample, like
        the reconstruction loss, which is a mean over values.
    sparsity : float, default=0.0
        Weight of an activity penalty on the code (a sparse autoencoder).
    sparsity_penalty : {"l1", "kl"}, default="l1"
        L1 of the code, or KL divergence of each unit's mean sigmoid activation from
        ``sparsity_target``.
    sparsity_target : float, default=0.05
    noise : {"gaussian", "masking", "salt_pepper"} or None, default=None
        Training-time corruption of the inputs against clean targets (a denoising
        autoencoder). Never applied at inference.
    noise_level : float, default=0.1
        Gaussian standard deviation or corruption probability, in scaled units.
    dropout : float, default=0.0
        Dropout after each hidden encoder layer.
    scale : {"auto", "minmax", "standard", "robust", "none"}, default="auto"
        "auto": minmax (one range for all values) for images and data in [0, 1],
        standard per feature otherwise.
    max_epochs : int, default=50
    batch_size : int or "auto", default="auto"
        "auto": 1% of the training samples, between 32 and 256, so that small data sets
        still get enough steps per epoch.
    learning_rate : float, default=3e-3
        AdamW learning rate.
    weight_decay : float, default=0.0
    lr_schedule : {"constant", "cosine"}, default="cosine"
        Cosine decay of the learning rate to zero over ``max_epochs``.
    max_grad_norm : float or None, default=10.0
        Gradient clipping threshold; None turns clipping off.
    validation_fraction : float, default=0.1
        Share of samples held out to monitor training and pick the best epoch; 0 monitors
        the training loss.
    patience : int or None, default=10
        Epochs without improvement before stopping; None never stops early. The weights
        of the best epoch are kept either way.
    device : str, default="auto"
        "auto" uses CUDA when present.
    random_state : int, RandomState or None, default=None
        The same integer gives bit-identical results on CPU.
    verbose : int, default=0
        1 shows a progress bar over epochs.
    categorical : list of str or None, default=None
        DataFrame columns to one-hot encode whatever their dtype (integer codes, say).
    ignore : list of str or None, default=None
        DataFrame columns to leave out of the model.

    Attributes
    ----------
    model_ : BaseAE
        The trained torch module.
    scaler_ : Scaler
        Identity scaling (``method="none"``) for tables, whose scaling is in ``preprocessor_``.
    preprocessor_ : TablePreprocessor or None
        The mixed-table encoding, or None for plain numeric input.
    history_ : History
        Loss per epoch (``train_loss``, ``val_loss``, each term in ``train_terms``).
    sample_shape_ : tuple of int
        Shape of one sample as seen in ``fit``.
    n_features_in_ : int
        Values per sample (columns used, for a table).
    feature_names_in_ : ndarray of str
        Column names, when ``fit`` was given a DataFrame (the columns used, for a table).
    """

    _weight_init: ClassVar[str] = "glorot"  # linear layers; see aekit.models._layers
    _parameter_constraints: dict[str, list[Any]] = {  # noqa: RUF012
        "kind": [_KindName()],
        "latent_dim": [Interval(Integral, 1, None, closed="left")],
        "hidden_dims": [None, "array-like"],
        "channels": [None, "array-like"],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "latent_activation": [StrOptions(set(ACTIVATIONS))],
        "output_activation": [StrOptions({"auto", *OUTPUT_ACTIVATIONS})],
        "loss": [StrOptions(set(LOSSES))],
        "variational": ["boolean"],
        "beta": [Interval(Real, 0, None, closed="left")],
        "sparsity": [Interval(Real, 0, None, closed="left")],
        "sparsity_penalty": [StrOptions(set(SPARSITY_PENALTIES))],
        "sparsity_target": [Interval(Real, 0, 1, closed="neither")],
        "noise": [None, StrOptions(set(NOISE_KINDS))],
        "noise_level": [Interval(Real, 0, None, closed="neither")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "scale": [StrOptions(set(SCALE_METHODS))],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "lr_schedule": [StrOptions(set(LR_SCHEDULES))],
        "max_grad_norm": [None, Interval(Real, 0, None, closed="neither")],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "patience": [None, Interval(Integral, 0, None, closed="left")],
        "device": [str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "categorical": [None, list, tuple],
        "ignore": [None, list, tuple],
    }

    def __init__(
        self,
        kind: str = "dense",
        *,
        latent_dim: int = 2,
        hidden_dims: tuple[int, ...] | None = None,
        channels: tuple[int, ...] | None = None,
        activation: str = "relu",
        latent_activation: str = "identity",
        output_activation: str = "auto",
        loss: str = "mse",
        variational: bool = False,
        beta: float = 1.0,
        sparsity: float = 0.0,
        sparsity_penalty: str = "l1",
        sparsity_target: float = 0.05,
        noise: str | None = None,
        noise_level: float = 0.1,
        dropout: float = 0.0,
        scale: str = "auto",
        max_epochs: int = 50,
        batch_size: int | str = "auto",
        learning_rate: float = 3e-3,
        weight_decay: float = 0.0,
        lr_schedule: str = "cosine",
        max_grad_norm: float | None = 10.0,
        validation_fraction: float = 0.1,
        patience: int | None = 10,
        device: str = "auto",
        random_state: int | np.random.RandomState | None = None,
        verbose: int = 0,
        categorical: list[str] | None = None,
        ignore: list[str] | None = None,
    ) -> None:
        self.kind = kind
        self.latent_dim = latent_dim
        self.hidden_dims = hidden_dims
        self.channels = channels
        self.activation = activation
        self.latent_activation = latent_activation
        self.output_activation = output_activation
        self.loss = loss
        self.variational = variational
        self.beta = beta
        self.sparsity = sparsity
        self.sparsity_penalty = sparsity_penalty
        self.sparsity_target = sparsity_target
        self.noise = noise
        self.noise_level = noise_level
        self.dropout = dropout
        self.scale = scale
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.lr_schedule = lr_schedule
        self.max_grad_norm = max_grad_norm
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.categorical = categorical
        self.ignore = ignore

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        tags.input_tags.allow_nan = False
        return tags

    # --- fitting -------------------------------------------------------------------

    def fit(
        self,
        X: ArrayLike,
        y: object = None,
        *,
        callbacks: list[Callback] | None = None,
        checkpoint: str | Path | None = None,
        checkpoint_every: int = 1,
        resume: str | Path | None = None,
        stop: threading.Event | None = None,
    ) -> Autoencoder:
        """Train the autoencoder on ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), (n_samples, H, W) or (n_samples, C, H, W)
            or a DataFrame with mixed columns and gaps (see "Mixed tables" above)
        y : ignored
        callbacks : list of callables, optional
            Called after each epoch as ``callback(history, model)``; returning True stops.
        checkpoint : path, optional
            Write a checkpoint (a model file with the loop's state) here every
            ``checkpoint_every`` epochs.
        resume : path, optional
            Continue the run saved in this checkpoint. With the same data, parameters and
            seed on CPU, the result equals an uninterrupted run's bit for bit.
        stop : threading.Event, optional
            Set it (from a signal handler, say) to end training after the current step;
            the best weights so far are kept and ``history_.interrupted`` is True.

        Returns
        -------
        self : Autoencoder
        """
        self._validate_params()
        check_noise(self.noise, self.noise_level)
        run: dict[str, Any] = {
            "checkpoint": checkpoint,
            "checkpoint_every": checkpoint_every,
            "resume": resume,
            "stop": stop,
        }
        if is_table_path(X):
            return self._fit_stream(Path(str(X)), callbacks, **run)
        X_scaled = self._fit_preprocessing(X)
        rng = check_random_state(self.random_state)
        self.model_, self.history_ = self._train_network(X_scaled, rng, callbacks, **run)
        return self

    def _fit_stream(self, path: Path, callbacks: list[Callback] | None, **run: Any) -> Autoencoder:
        """Train on a Parquet file or folder read in batches: bounded memory.

        Preprocessing is fitted on a uniform sample of ``SAMPLE_ROWS`` rows (a category
        level absent from it is encoded as unseen); every epoch then streams this rank's
        row groups through a shuffle buffer, holding out ``validation_fraction`` of the
        rows (by a hash of their position) for early stopping.
        """
        from aekit.data.loaders import SAMPLE_ROWS, ParquetSource, StreamBatches

        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        device = distributed.setup(resolve_device(self.device))
        rank, world = distributed.rank_and_world()
        source = ParquetSource(
            path,
            validation_fraction=self.validation_fraction,
            seed=seed,
            rank=rank,
            world_size=world,
        )
        self._fit_preprocessing(source.sample(SAMPLE_ROWS, seed=seed))
        n_train = round(source.n_rows * (1 - self.validation_fraction))
        batches = StreamBatches(
            source, self._to_model_space, self._batch_size(n_train), split="train", seed=seed
        )
        validation = (
            StreamBatches(
                source, self._to_model_space, INFERENCE_BATCH, split="validation", shuffle=False
            )
            if self.validation_fraction > 0
            else None
        )
        self.model_, self.history_ = self._train_batches(
            batches, validation, device, seed, callbacks, **run
        )
        return self

    def _uses_table(self, X: Any) -> bool:
        """Whether ``X`` goes through the mixed-table preprocessing."""
        if self.categorical or self.ignore:
            if not (hasattr(X, "columns") and hasattr(X, "dtypes")):
                raise InputError(
                    f"categorical= and ignore= name DataFrame columns, but X is a "
                    f"{type(X).__name__}; pass a pandas DataFrame"
                )
            return True
        return is_table(X)

    def _fit_preprocessing(self, X: Any) -> NDArray[np.float32]:
        """Fit the scaling (``scaler_``) or, for a mixed table, ``preprocessor_`` on ``X``
        (an array or a DataFrame); set the input attributes and return the model-space rows."""
        if not self._uses_table(X):
            return self._fit_scaler(validate_samples(self, X, reset=True))
        preprocessor = TablePreprocessor(list(self.categorical or []), list(self.ignore or [])).fit(
            X
        )
        rows = preprocessor.transform(X)
        self.n_features_in_ = len(preprocessor.columns_)
        self.feature_names_in_ = np.asarray(preprocessor.columns_, dtype=object)
        self._fit_scaler(rows, scale="none")
        self.preprocessor_: TablePreprocessor | None = preprocessor
        return rows

    def _batch_size(self, n_train: int) -> int:
        """Rows per step on this rank: under torchrun the ranks share one global batch."""
        size = min(256, max(32, n_train // 100)) if self.batch_size == "auto" else self.batch_size
        return max(1, int(size) // distributed.rank_and_world()[1])

    def _fit_scaler(self, X: NDArray[np.float32], scale: str | None = None) -> NDArray[np.float32]:
        """Fit ``scaler_`` (and ``sample_shape_``) on validated ``X``; return X scaled."""
        self.preprocessor_ = None
        self.sample_shape_ = tuple(X.shape[1:])
        self.scaler_ = Scaler.fit(X, self.scale if scale is None else scale)
        X_scaled = self.scaler_.transform(X)
        check_finite(X_scaled)
        if self.loss == "bce" and (X_scaled.min() < 0 or X_scaled.max() > 1):
            raise InputError(
                f"loss='bce' needs data in [0, 1] after scaling, but scale={self.scale!r} "
                f"gives [{X_scaled.min():.3g}, {X_scaled.max():.3g}]; "
                f"use scale='minmax' or loss='mse'"
            )
        return X_scaled

    def _train_network(
        self,
        X_scaled: NDArray[np.float32],
        rng: np.random.RandomState,
        callbacks: list[Callback] | None = None,
        *,
        checkpoint: str | Path | None = None,
        checkpoint_every: int = 1,
        resume: str | Path | None = None,
        stop: threading.Event | None = None,
    ) -> tuple[BaseAE, History]:
        """Build and train one network on scaled samples; its seed is drawn from ``rng``.

        The network is ``model_`` while it trains, so that checkpoints can save it.
        """
        seed = int(rng.randint(np.iinfo(np.int32).max))
        device = distributed.setup(resolve_device(self.device))
        x_all = torch.from_numpy(X_scaled.reshape(len(X_scaled), *self._model_input_shape()))
        n_val = round(len(x_all) * self.validation_fraction)
        order = torch.from_numpy(rng.permutation(len(x_all)))
        if n_val < 1 or n_val >= len(x_all):
            x_train, x_val = x_all, None
        else:
            x_train, x_val = x_all[order[n_val:]], x_all[order[:n_val]]
        batch_size = self._batch_size(len(x_train))
        rank, world = distributed.rank_and_world()
        if world > 1:  # under torchrun each rank trains on every world-th row
            x_train = x_train[rank::world]
            x_val = x_val[rank::world] if x_val is not None else None
        generator = torch.Generator(device).manual_seed(seed)
        batches = TensorBatches(x_train.to(device), batch_size, generator=generator)
        validation = (
            TensorBatches(x_val.to(device), INFERENCE_BATCH, shuffle=False)
            if x_val is not None
            else None
        )
        return self._train_batches(
            batches,
            validation,
            device,
            seed,
            callbacks,
            checkpoint=checkpoint,
            checkpoint_every=checkpoint_every,
            resume=resume,
            stop=stop,
        )

    def _train_batches(
        self,
        batches: Iterable[torch.Tensor],
        validation: Iterable[torch.Tensor] | None,
        device: torch.device,
        seed: int,
        callbacks: list[Callback] | None = None,
        *,
        checkpoint: str | Path | None = None,
        checkpoint_every: int = 1,
        resume: str | Path | None = None,
        stop: threading.Event | None = None,
    ) -> tuple[BaseAE, History]:
        """Build a network seeded with ``seed`` and train it on model-space batches.

        Under ``torchrun`` only rank 0 shows progress and writes checkpoints.
        """
        settings = self._train_settings(device, seed)
        all_callbacks: list[Callback] = list(callbacks or [])
        main = distributed.is_main()
        bar = ProgressBar(self.max_epochs) if self.verbose and main else None
        if bar is not None:
            all_callbacks.append(bar)
        cuda = [device.index or 0] if device.type == "cuda" else []
        try:
            with torch.random.fork_rng(devices=cuda):  # seeds init, dropout and VAE sampling
                torch.manual_seed(seed)
                model = self.model_ = build_model(
                    self.kind, self._model_config(), init=self._weight_init
                )
                self._n_features_out = self.latent_dim
                loop_state = self._resume_state(resume) if resume is not None else None
                if loop_state is not None and hasattr(batches, "epoch"):
                    batches.epoch = loop_state.epoch  # a stream's shuffle order goes on
                history = train(
                    model,
                    batches,
                    settings,
                    validation=validation,
                    callbacks=all_callbacks,
                    resume=loop_state,
                    checkpoint=self._checkpointer(Path(checkpoint))
                    if checkpoint and main
                    else None,
                    checkpoint_every=checkpoint_every,
                    stop=stop,
                )
        finally:
            if bar is not None:
                bar.close()
        model.eval()
        return model, history

    def _checkpointer(self, path: Path) -> Callable[[LoopState], None]:
        from aekit.io.model_file import save

        def write(state: LoopState) -> None:
            self.history_ = state.history
            save(self, path, training=state)

        return write

    def _resume_state(self, path: str | Path) -> LoopState:
        """Load a checkpoint's weights into ``model_`` and return its loop state."""
        from aekit.io.model_file import load_checkpoint

        saved, state = load_checkpoint(path)
        mine, theirs = self.get_params(), saved.get_params()
        differ = sorted(k for k in mine if k not in RESUMABLE and str(mine[k]) != str(theirs[k]))
        if type(saved) is not type(self) or differ:
            shown = ", ".join(f"{k}={theirs[k]!r} there, {mine[k]!r} here" for k in differ)
            raise ValueError(f"checkpoint {path} was made with other settings: {shown}")
        if saved.sample_shape_ != self.sample_shape_:
            raise ValueError(
                f"checkpoint {path} was trained on samples of shape {saved.sample_shape_}, "
                f"not {self.sample_shape_}"
            )
        self.model_.load_state_dict(saved.model_.state_dict())
        return state

    def _model_input_shape(self) -> tuple[int, ...]:
        """The sample shape the network sees: images get a channel axis."""
        shape = self.sample_shape_
        return (1, *shape) if len(shape) == 2 else shape

    def _model_config(self) -> dict[str, Any]:
        cls = model_class(self.kind)
        fields = cls.config_class.field_names()
        for name in ("hidden_dims", "channels"):
            if getattr(self, name) is not None and name not in fields:
                raise ValueError(
                    f"{name}={getattr(self, name)!r} does not apply to kind={self.kind!r}"
                )
        output_activation = self.output_activation
        if output_activation == "auto":
            unit = self.scaler_.unit_range
            output_activation = "sigmoid" if self.loss == "bce" or unit else "identity"
        config = {
            "input_shape": self._model_input_shape(),
            "latent_dim": int(self.latent_dim),
            "activation": self.activation,
            "latent_activation": self.latent_activation,
            "loss": self.loss,
            "output_activation": output_activation,
            "variational": bool(self.variational),
            "beta": float(self.beta),
            "sparsity": float(self.sparsity),
            "sparsity_penalty": self.sparsity_penalty,
            "sparsity_target": float(self.sparsity_target),
            "dropout": float(self.dropout),
            "hidden_dims": self.hidden_dims,
            "channels": self.channels,
        }
        return {k: v for k, v in config.items() if k in fields}

    def _train_settings(self, device: torch.device, seed: int) -> TrainSettings:
        return TrainSettings(
            max_epochs=self.max_epochs,
            learning_rate=self.learning_rate,
            weight_decay=self.weight_decay,
            lr_schedule=self.lr_schedule,
            max_grad_norm=self.max_grad_norm,
            patience=self.patience,
            noise=self.noise,
            noise_level=self.noise_level,
            noise_clip=(0.0, 1.0) if self.scaler_.unit_range else None,
            device=device,
            seed=seed,
        )

    # --- inference -----------------------------------------------------------------

    def _device(self) -> torch.device:
        return next(self.model_.parameters()).device

    def _to_model_space(self, X: Any) -> NDArray[np.float32]:
        """Validate ``X`` and apply the fitted preprocessing: rows ``(n, *sample_shape_)``."""
        return self._model_rows(X)[0]

    def _model_rows(self, X: Any) -> tuple[NDArray[np.float32], tuple[int, ...]]:
        """``_to_model_space(X)`` and the shape of one sample of X as given."""
        check_is_fitted(self, "model_")
        table = self._table()
        if table is not None:
            return table.transform(X), self.sample_shape_
        X = validate_samples(self, X, reset=False)
        shape = tuple(X.shape[1:])
        return self.scaler_.transform(X.reshape(len(X), *self.sample_shape_)), shape

    def _scaled(self, X: ArrayLike) -> tuple[NDArray[np.float32], tuple[int, ...]]:
        """Validated, scaled X in the model's input shape, and X's own sample shape."""
        x, shape = self._model_rows(X)
        return x.reshape(len(x), *self._model_input_shape()), shape

    def _table(self) -> TablePreprocessor | None:
        """The fitted table preprocessing, or None (also for models saved before it)."""
        return getattr(self, "preprocessor_", None)

    def _per_column(self, values: NDArray[np.float64]) -> NDArray[np.float64]:
        """Per-value errors ``(n, n_encoded)`` of a table summed into its columns."""
        table = self._table()
        assert table is not None
        return np.asarray(values.reshape(len(values), -1) @ table.group_matrix(), np.float64)

    @torch.inference_mode()
    def _map(self, fn: Any, x: NDArray[np.float32]) -> NDArray[np.float32]:
        """Apply ``fn`` (tensor -> tensor, of an eval-mode network) to ``x`` in chunks."""
        self.model_.eval()
        device = self._device()
        outputs = [
            fn(torch.from_numpy(chunk).to(device)).float().cpu().numpy()
            for chunk in np.array_split(x, max(1, -(-len(x) // INFERENCE_BATCH)))
        ]
        out = np.concatenate(outputs) if outputs else np.empty((0,), np.float32)
        check_overflow(out, x)
        return out

    def _unscale(self, x_scaled: NDArray[np.float32], shape: tuple[int, ...]) -> Any:
        """Model-space outputs back to the data's units, each sample in ``shape``
        (a DataFrame with the original columns for a table)."""
        table = self._table()
        if table is not None:
            return table.inverse_transform(x_scaled.reshape(len(x_scaled), -1))
        x = x_scaled.reshape(len(x_scaled), *self.sample_shape_)
        return self.scaler_.inverse_transform(x).reshape(len(x), *shape)

    def transform(self, X: ArrayLike) -> NDArray[np.float32]:
        """Latent codes (the posterior mean for a variational model).

        Returns
        -------
        Z : ndarray of shape (n_samples, latent_dim)
        """
        x, _ = self._scaled(X)
        return self._map(self.model_.encode, x)

    def inverse_transform(self, X: ArrayLike) -> Any:
        """Decode latent codes back to data space.

        Parameters
        ----------
        X : array-like of shape (n_samples, latent_dim)

        Returns
        -------
        X_decoded : ndarray of shape (n_samples, *sample_shape_)
            A DataFrame with the original columns for a table model.
        """
        check_is_fitted(self, "model_")
        Z = validate_codes(X, self.latent_dim)
        return self._unscale(self._map(self.model_.decode, Z), self.sample_shape_)

    def reconstruct(self, X: ArrayLike) -> Any:
        """Encode and decode ``X``; the result has X's shape and units (for a table model,
        a DataFrame with the columns used, categories as their most likely level)."""
        x, shape = self._scaled(X)
        return self._unscale(self._map(self.model_, x), shape)

    def denoise(self, X: ArrayLike) -> Any:
        """Cleaned-up ``X``: its reconstruction by a model trained as a denoiser.

        A model fitted with ``noise=`` learned to map corrupted inputs to clean ones, so its
        reconstruction of a noisy sample estimates the clean one. Choose the training noise
        like the noise to remove (``noise="gaussian"`` with ``noise_level`` near its standard
        deviation, in scaled units, which are the data's own for data in [0, 1]). A model
        fitted without noise still returns its reconstruction, with a ``UserWarning``: it was
        never taught to remove noise and may reproduce it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), (n_samples, H, W) or (n_samples, C, H, W)
            Noisy samples.

        Returns
        -------
        X_denoised : ndarray of X's shape, in the data's units
        """
        check_is_fitted(self, "model_")
        if self.noise is None:
            warnings.warn(
                "denoise() on a model fitted without noise: it was not trained to remove "
                "noise; fit with noise='gaussian' (and a noise_level like the noise's) for a "
                "denoiser",
                UserWarning,
                stacklevel=2,
            )
        return self.reconstruct(X)

    def reconstruction_error(self, X: ArrayLike, per_feature: bool = False) -> NDArray[np.float64]:
        """Squared difference between ``X`` and its reconstruction, in the data's units.

        Computed in float64, so that even extreme inputs give finite errors. For a table
        model, errors are in the scaled space the network sees, summed per original column
        (one-hot levels, hash buckets, the unseen input and missing indicators into their
        column).

        Returns
        -------
        error : ndarray of shape (n_samples,), or X's shape with ``per_feature=True``
            The mean squared error of each sample, or the squared error of each value
            (of each column in ``feature_names_in_``, for a table model).
        """
        x, shape = self._scaled(X)
        x_hat = self._map(self.model_, x)
        difference = (x_hat.astype(np.float64) - x).reshape(len(x), *self.sample_shape_)
        squared = np.square(difference * self.scaler_.scale).reshape(len(x), *shape)
        if self._table() is not None:
            squared = self._per_column(squared)
        if per_feature:
            return squared
        return np.asarray(squared.reshape(len(x), -1).mean(axis=1), dtype=np.float64)

    def score_samples(self, X: ArrayLike) -> NDArray[np.float64]:
        """Negative reconstruction error of each sample: higher means better reconstructed."""
        return -self.reconstruction_error(X)

    def score(self, X: ArrayLike, y: object = None) -> float:
        """Negative mean squared reconstruction error (higher is better), for model selection."""
        return float(self.score_samples(X).mean())

    def sample(self, n_samples: int = 1, *, random_state: int | None = None) -> Any:
        """Draw samples from a variational model: codes from N(0, I), decoded.

        Returns
        -------
        X_sampled : ndarray of shape (n_samples, *sample_shape_), in the data's units
        """
        check_is_fitted(self, "model_")
        if not self.variational:
            raise ValueError("sample() needs a variational model; fit with variational=True")
        if not isinstance(n_samples, Integral) or n_samples < 1:
            raise ValueError(f"n_samples={n_samples!r} must be a positive integer")
        rng = check_random_state(random_state)
        z = rng.standard_normal((int(n_samples), self.latent_dim)).astype(np.float32)
        return self._unscale(self._map(self.model_.decode, z), self.sample_shape_)

    def interpolate(
        self, a: ArrayLike, b: ArrayLike, steps: int = 8, *, method: str = "linear"
    ) -> Any:
        """Decoded points on a path between the codes of two samples.

        Both samples are encoded (to the mean code for a variational model), the path between
        the codes is cut into ``steps`` points, both ends included, and each point is
        decoded. The first and last outputs are therefore the reconstructions of ``a`` and
        ``b``. Any model interpolates; a variational one, whose codes were trained to fill
        the prior, usually gives the more plausible intermediate samples.

        Parameters
        ----------
        a, b : array-like holding one sample each
            Of shape ``sample_shape_``, ``(1, *sample_shape_)`` or any shape with
            ``n_features_in_`` values.
        steps : int, default=8
            Points on the path, at least 2.
        method : {"linear", "spherical"}, default="linear"
            "linear": evenly spaced points on the segment between the codes. "spherical"
            (slerp): along the arc between them, which keeps the codes' norms near those of
            draws from a Gaussian prior; the segment is used when the codes are parallel.

        Returns
        -------
        X_path : ndarray of shape (steps, *sample_shape_), in the data's units
        """
        check_is_fitted(self, "model_")
        if not isinstance(steps, Integral) or isinstance(steps, bool) or steps < 2:
            raise ValueError(f"steps={steps!r} must be an integer >= 2 (both ends are included)")
        if method not in ("linear", "spherical"):
            raise ValueError(f"method={method!r} is not one of linear, spherical")
        if self._table() is not None:
            import pandas as pd

            both = pd.concat([a, b], ignore_index=True)  # type: ignore[list-item]
            if len(both) != 2:
                raise InputError(f"a and b must be one-row DataFrames; got {len(both)} rows")
            z_a, z_b = self.transform(both).astype(np.float64)
            return self._unscale(self._path(z_a, z_b, int(steps), method), self.sample_shape_)
        ends = []
        for name, value in (("a", a), ("b", b)):
            sample = np.asarray(value, dtype=np.float32)
            if sample.size != self.n_features_in_:
                raise InputError(
                    f"{name} must be one sample of shape {self.sample_shape_} "
                    f"({self.n_features_in_} values); got shape {sample.shape}"
                )
            ends.append(sample.reshape(1, *self.sample_shape_))
        z_a, z_b = self.transform(np.concatenate(ends)).astype(np.float64)
        return self._unscale(self._path(z_a, z_b, int(steps), method), self.sample_shape_)

    def _path(
        self, z_a: NDArray[np.float64], z_b: NDArray[np.float64], steps: int, method: str
    ) -> NDArray[np.float32]:
        """Decoded (model-space) points between two codes."""
        t = np.linspace(0.0, 1.0, steps)[:, None]
        cos = np.dot(z_a, z_b) / max(np.linalg.norm(z_a) * np.linalg.norm(z_b), 1e-12)
        omega = np.arccos(np.clip(cos, -1.0, 1.0))
        if method == "spherical" and np.sin(omega) > 1e-6:
            z = (np.sin((1 - t) * omega) * z_a + np.sin(t * omega) * z_b) / np.sin(omega)
        else:
            z = (1 - t) * z_a + t * z_b
        return self._map(self.model_.decode, z.astype(np.float32))

    def encoder_module(self) -> torch.nn.Module:
        """The fitted encoder as a standalone module, to put in front of a classifier.

        It takes raw samples, float32 of shape ``(batch, *sample_shape_)`` in the data's own
        units, applies the fitted scaling (held as buffers) and the encoder, and returns the
        codes ``(batch, latent_dim)`` that ``transform`` gives (the mean for a variational
        model). Its layers are deep copies on the model's device whose parameters require
        gradients: fine-tuning it leaves this estimator unchanged. It is returned in eval
        mode; call ``.train()`` before fine-tuning if the encoder has dropout.

        Returns
        -------
        encoder : torch.nn.Module
        """
        check_is_fitted(self, "model_")
        if self._table() is not None:
            raise ValueError(
                "encoder_module() takes numeric rows, but this model encodes a mixed table; "
                "use transform(frame) for codes"
            )
        module = ScaledEncoder(
            self.model_, self.scaler_.offset, self.scaler_.scale, self.sample_shape_
        )
        for parameter in module.parameters():
            parameter.requires_grad_(True)
        return module.eval()

    def save(self, path: str | Path) -> Path:
        """Write the fitted model to one ``.safetensors`` file (atomically); see ``aekit.load``."""
        from aekit.io.model_file import save

        return save(self, path)

    def _fitted_state(self) -> tuple[dict[str, Any], dict[str, NDArray[Any]]]:
        """What ``fit`` learned besides the network: JSON scalars and arrays, for model files."""
        state: dict[str, Any] = {
            "sample_shape_": list(self.sample_shape_),
            "n_features_in_": int(self.n_features_in_),
            "scaler_method": self.scaler_.method,
            "history_": self.history_.to_dict(),
        }
        if hasattr(self, "feature_names_in_"):
            state["feature_names_in_"] = [str(n) for n in self.feature_names_in_]
        arrays: dict[str, NDArray[Any]] = {
            "scaler.offset": self.scaler_.offset,
            "scaler.scale": self.scaler_.scale,
        }
        table = self._table()
        if table is not None:
            state["preprocessor"], table_arrays = table.to_state()
            arrays |= {f"preprocessor.{k}": v for k, v in table_arrays.items()}
        return state, arrays

    def _restore_fitted_state(self, state: dict[str, Any], arrays: dict[str, NDArray[Any]]) -> None:
        """Inverse of ``_fitted_state``."""
        self.sample_shape_ = tuple(int(s) for s in state["sample_shape_"])
        self.n_features_in_ = int(state["n_features_in_"])
        if "feature_names_in_" in state:
            self.feature_names_in_ = np.asarray(state["feature_names_in_"], dtype=object)
        self.scaler_ = Scaler(
            state["scaler_method"], arrays["scaler.offset"], arrays["scaler.scale"]
        )
        self.history_ = History.from_dict(state["history_"])
        self._n_features_out = self.latent_dim
        self.preprocessor_ = None
        if "preprocessor" in state:  # absent from files written before mixed tables
            prefix = "preprocessor."
            table_arrays = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
            self.preprocessor_ = TablePreprocessor.from_state(state["preprocessor"], table_arrays)

    @property
    def n_epochs_(self) -> int:
        """Epochs trained."""
        check_is_fitted(self, "history_")
        return self.history_.n_epochs


def check_overflow(out: NDArray[Any], x: NDArray[np.float32], first_row: int = 0) -> None:
    """Raise ``InputError`` naming the rows of ``x`` whose network outputs ``out`` are not
    finite: a float32 overflow inside the network (a NaN in X is refused before)."""
    finite = np.isfinite(out.reshape(len(out), -1)).all(axis=1)
    if not finite.all():
        rows = np.flatnonzero(~finite)
        extreme = float(np.abs(x[rows].reshape(len(rows), -1)).max())
        raise InputError(
            f"the network overflowed on rows {(rows[:5] + first_row).tolist()}: their values "
            f"lie far outside the range seen in fit (up to {extreme:.3g} after scaling, where "
            f"training data is near 0 to 1); check those rows for unit or entry errors"
        )
