"""``Autoencoder``: a scikit-learn transformer around any registered model kind."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Iterable
from numbers import Integral
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from aekit.data.loaders import is_table_path
from aekit.data.scaling import Scaler
from aekit.data.tables import TablePreprocessor, is_table
from aekit.data.validation import check_finite, validate_codes, validate_samples
from aekit.estimators._runs import ResumePoint, RowSplit, TrainingRun, check_same_settings
from aekit.estimators.parameters import AutoencoderParams
from aekit.exceptions import InputError
from aekit.models import BaseAE, ModelConfig, build_config, build_model, kind_settings, list_models
from aekit.models.corruption import check_noise
from aekit.models.corruption import corrupt as corrupt_tensor
from aekit.models.encoder import ScaledEncoder
from aekit.models.size import check_memory
from aekit.training import (
    Callback,
    Checkpoint,
    History,
    ProgressBar,
    TensorBatches,
    TrainSettings,
    distributed,
    history_callback,
    resolve_device,
    train,
)
from aekit.training.checkpoint import LoopState
from aekit.training.threads import compute_threads, work_of

INFERENCE_BATCH = 4096  # rows per forward pass at inference: bounded memory, few calls
# scikit-learn checks that float32 networks cannot pass to the letter, with the reason
FLOAT32_CHECK_LIMITS = {
    "check_methods_subset_invariance": "float32 matrix products round differently with the "
    "batch size (about 2e-7 relative); the tests check subset invariance at 1e-5",
}


class Autoencoder(
    AutoencoderParams, ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator
):
    """Non-linear dimensionality reduction with a neural autoencoder.

    Works on rows ``(n_samples, n_features)`` and images ``(n_samples, H, W)`` or
    ``(n_samples, C, H, W)``. Inputs are scaled before the network and outputs unscaled
    after it, so every method speaks in the data's own units. Outputs are float32.

    **Mixed tables.** A pandas DataFrame with any non-numeric column, any gap or an
    integer identifier (or any ``categorical=`` / ``ignore=``) goes through
    ``aekit.data.tables.TablePreprocessor`` instead of ``scale``. Each column gets a role
    (``preprocessor_.column_roles()``, printed at fit when ``verbose``): numbers robustly
    scaled with a missing-indicator input for columns with gaps, booleans as 0/1,
    categories one-hot (a column with more than 20 levels keeps its 19 most frequent,
    hashes its rarer ones into 8 bucket inputs, and every column has an ``<unseen>`` input
    for levels never seen in fit), date-times as calendar inputs (time of day, day of
    week, season); identifiers (keys such as ``order_id``) and free text are left out with
    a warning, and may be absent when scoring. Reconstructions
    come back as a DataFrame with the original columns, and per-feature errors are per
    original column (a one-hot group and a missing indicator summed into their column), in
    the scaled units the network sees.

    **Kinds.** ``kind`` picks the architecture and ``model_params`` its own settings
    (``aekit.models.kind_settings(kind)`` lists them with their defaults).

    {parameters}

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

    Examples
    --------
    >>> from aekit import Autoencoder
    >>> from aekit.datasets import load_digits
    >>> X, y = load_digits()
    >>> ae = Autoencoder(latent_dim=2, max_epochs=3, random_state=0).fit(X)
    >>> codes = ae.transform(X)
    >>> codes.shape
    (1797, 2)
    >>> ae.inverse_transform(codes[:5]).shape
    (5, 64)
    >>> errors = ae.reconstruction_error(X)
    >>> errors.shape, errors.dtype
    ((1797,), dtype('float64'))
    """

    @classmethod
    def _parameter_hint(cls, name: str) -> str | None:
        owners = [kind for kind in list_models() if name in kind_settings(kind)]
        if owners:
            return (
                f"{name} is a setting of kind {', '.join(map(repr, owners))}: pass "
                f"model_params={{{name!r}: ...}}."
            )
        return None

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
        callbacks: list[Callable[[History, torch.nn.Module], bool]] | None = None,
        checkpoint: str | Path | None = None,
        checkpoint_every: int = 1,
        resume: str | Path | None = None,
        stop: threading.Event | None = None,
    ) -> Autoencoder:
        """Train the autoencoder on ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), (n_samples, H, W) or (n_samples, C, H, W)
            or a DataFrame with mixed columns and gaps (see "Mixed tables" above), or the
            path of a Parquet file or folder to stream.
        y : ignored
        callbacks : list of callables, optional
            Called after each epoch as ``callback(history, model)``; returning True stops.
        checkpoint : path, optional
            Write a checkpoint (a model file with the loop's state) here every
            ``checkpoint_every`` epochs and when training ends.
        checkpoint_every : int, default=1
            Epochs between checkpoints.
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
        run = TrainingRun(
            [history_callback(fn) for fn in callbacks or []],
            stop=stop,
            checkpoint=self._checkpoint_writer(checkpoint),
            checkpoint_every=checkpoint_every,
        )
        if is_table_path(X):
            return self._fit_stream(Path(str(X)), run, resume)
        X_scaled = self._fit_preprocessing(X)
        if resume is not None:
            run.resume = self._resume_point(resume)
        return self._fit_network(X_scaled, check_random_state(self.random_state), run)

    def _fit_stream(self, path: Path, run: TrainingRun, resume: str | Path | None) -> Autoencoder:
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
        if resume is not None:
            run.resume = self._resume_point(resume)
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
        self._train_batches(batches, validation, device, seed, run)
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

    def _fit_preprocessing(self, X: Any, *, verbose: int | None = None) -> NDArray[np.float32]:
        """Fit the scaling (``scaler_``) or, for a mixed table, ``preprocessor_`` on ``X``
        (an array or a DataFrame); set the input attributes and return the model-space rows.
        A table's column roles are printed when ``verbose`` (default: ``self.verbose``)."""
        if not self._uses_table(X):
            return self._fit_scaler(validate_samples(self, X, reset=True))
        preprocessor = TablePreprocessor(list(self.categorical or []), list(self.ignore or [])).fit(
            X
        )
        if (self.verbose if verbose is None else verbose) and distributed.is_main():
            print(preprocessor.roles_table(), flush=True)
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

    def _fit_network(
        self, X_scaled: NDArray[np.float32], rng: np.random.RandomState, run: TrainingRun
    ) -> Autoencoder:
        """Build and train the network on model-space samples (the preprocessing is fitted);
        its seed and validation split are drawn from ``rng``."""
        device = distributed.setup(resolve_device(self.device))
        x_all = torch.from_numpy(X_scaled.reshape(len(X_scaled), *self._model_input_shape()))
        split = self._split_rows(len(x_all), rng)
        seed, batch_size = split.seed, split.batch_size
        x_train = x_all if split.train is None else x_all[torch.from_numpy(split.train)]
        x_val = None if split.validation is None else x_all[torch.from_numpy(split.validation)]
        generator = torch.Generator(device).manual_seed(seed)
        batches = TensorBatches(x_train.to(device), batch_size, generator=generator)
        validation = (
            TensorBatches(x_val.to(device), INFERENCE_BATCH, shuffle=False)
            if x_val is not None
            else None
        )
        self._train_batches(batches, validation, device, seed, run)
        return self

    def _split_rows(self, n_samples: int, rng: np.random.RandomState) -> RowSplit:
        """This network's seed, its training and validation rows (this rank's under
        torchrun: every world-th row) and its batch size, drawn from ``rng``."""
        seed = int(rng.randint(np.iinfo(np.int32).max))
        n_val = round(n_samples * self.validation_fraction)
        order = rng.permutation(n_samples)
        train: NDArray[np.intp] | None = None  # every row
        validation: NDArray[np.intp] | None = None
        if 1 <= n_val < n_samples:
            train, validation = order[n_val:], order[:n_val]
        batch_size = self._batch_size(n_samples if train is None else len(train))
        rank, world = distributed.rank_and_world()
        if world > 1:
            train = (np.arange(n_samples) if train is None else train)[rank::world]
            validation = validation[rank::world] if validation is not None else None
        return RowSplit(seed, train, validation, batch_size)

    def _new_network(self, config: ModelConfig, seed: int) -> BaseAE:
        """A fresh network of ``config``: torch's global generator is seeded with ``seed``,
        then the weights are drawn from it (call it inside ``torch.random.fork_rng``)."""
        torch.manual_seed(seed)
        return build_model(self.kind, config, init=self.weight_init)

    def _train_batches(
        self,
        batches: Iterable[torch.Tensor],
        validation: Iterable[torch.Tensor] | None,
        device: torch.device,
        seed: int,
        run: TrainingRun,
    ) -> None:
        """Build a network seeded with ``seed`` as ``model_`` and train it on model-space
        batches, setting ``history_``. Under ``torchrun`` only rank 0 shows progress and
        writes checkpoints."""
        config = self._model_config()  # a bad setting fails here, before any progress bar
        settings = self._train_settings(device, seed, config)
        callbacks: list[Callback] = list(run.callbacks)
        main = distributed.is_main()
        bar = ProgressBar(self.max_epochs, description=run.label) if self.verbose and main else None
        if bar is not None:
            callbacks.append(bar)
        if run.checkpoint is not None and main:  # last: it sees every other callback's decision
            callbacks.append(Checkpoint(run.checkpoint, run.checkpoint_every))
        cuda = [device.index or 0] if device.type == "cuda" else []
        try:
            with torch.random.fork_rng(devices=cuda):  # seeds init, dropout and VAE sampling
                model = self.model_ = self._new_network(config, seed)
                self._n_features_out = self.latent_dim
                if run.resume is not None:
                    model.load_state_dict(run.resume.weights)
                    if hasattr(batches, "epoch"):
                        batches.epoch = run.resume.loop.epoch  # a stream's shuffle order goes on
                self.history_ = train(
                    model,
                    batches,
                    settings,
                    validation=validation,
                    callbacks=callbacks,
                    resume=None if run.resume is None else run.resume.loop,
                    stop=run.stop,
                )
        finally:
            if bar is not None:
                bar.close()
        model.eval()

    def _checkpoint_writer(self, path: str | Path | None) -> Callable[[LoopState], None] | None:
        """Save this estimator with the loop's state at ``path``: a checkpoint."""
        if path is None:
            return None
        from aekit.io.model_file import save

        def write(state: LoopState) -> None:
            self.history_ = state.history
            save(self, Path(path), training=state)

        return write

    def _resume_point(self, path: str | Path) -> ResumePoint:
        """The weights and loop state of a checkpoint made with the same settings."""
        from aekit.io.model_file import load_checkpoint

        saved, state = load_checkpoint(path)
        check_same_settings(self, saved, path)
        if not isinstance(state, LoopState):
            raise ValueError(f"checkpoint {path} holds no training loop state")
        return ResumePoint(state, saved.model_.state_dict())

    def _model_input_shape(self) -> tuple[int, ...]:
        """The sample shape the network sees: images get a channel axis."""
        shape = self.sample_shape_
        return (1, *shape) if len(shape) == 2 else shape

    def _model_config(self) -> ModelConfig:
        """The network's configuration: the shared fields from the parameters, the kind's
        own from ``model_params``."""
        output_activation = self.output_activation
        if output_activation == "auto":
            unit = self.scaler_.unit_range
            output_activation = "sigmoid" if self.loss == "bce" or unit else "identity"
        shared = {
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
        }
        return build_config(self.kind, shared, self.model_params)

    def _train_settings(
        self, device: torch.device, seed: int, config: ModelConfig
    ) -> TrainSettings:
        auto = self.learning_rate == "auto"
        return TrainSettings(
            max_epochs=self.max_epochs,
            learning_rate=config.learning_rate() if auto else float(self.learning_rate),
            weight_decay=self.weight_decay,
            lr_schedule=self.lr_schedule,
            max_grad_norm=self.max_grad_norm,
            patience=self.patience,
            noise=self.noise,
            noise_level=self.noise_level,
            noise_clip=self._noise_clip(),
            trim_fraction=self.trim_fraction,
            device=device,
            seed=seed,
        )

    def _noise_clip(self) -> tuple[float, float] | None:
        """Corrupted values stay in [0, 1] where the scaled data does."""
        return (0.0, 1.0) if self.scaler_.unit_range else None

    # --- inference -----------------------------------------------------------------

    def _device(self) -> torch.device:
        return next(self.model_.parameters()).device

    def _to_model_space(self, X: Any) -> NDArray[np.float32]:
        """Validate ``X`` and apply the fitted preprocessing: rows ``(n, *sample_shape_)``."""
        return self._model_rows(X)[0]

    def _model_rows(self, X: Any) -> tuple[NDArray[np.float32], tuple[int, ...]]:
        """``_to_model_space(X)`` and the shape of one sample of X as given."""
        check_is_fitted(self, "model_")
        return preprocess(self, X)

    def _scaled(self, X: ArrayLike) -> tuple[NDArray[np.float32], tuple[int, ...]]:
        """Validated, scaled X in the model's input shape, and X's own sample shape."""
        x, shape = self._model_rows(X)
        return x.reshape(len(x), *self._model_input_shape()), shape

    def _per_column(self, values: NDArray[np.float64]) -> NDArray[np.float64]:
        """Per-value errors ``(n, n_encoded)`` of a table summed into its columns."""
        table = self.preprocessor_
        if table is None:
            raise TypeError("_per_column needs a table model")
        return np.asarray(values.reshape(len(values), -1) @ table.group_matrix(), np.float64)

    @torch.inference_mode()
    def _map(self, fn: Any, x: NDArray[np.float32]) -> NDArray[np.float32]:
        """Apply ``fn`` (tensor -> tensor, of an eval-mode network) to ``x`` in chunks."""
        self.model_.eval()
        device = self._device()
        with compute_threads(work_of(self.model_, min(len(x), INFERENCE_BATCH))):
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
        table = self.preprocessor_
        if table is not None:
            return table.inverse_transform(x_scaled.reshape(len(x_scaled), -1))
        x = x_scaled.reshape(len(x_scaled), *self.sample_shape_)
        return self.scaler_.inverse_transform(x).reshape(len(x), *shape)

    # --- the network's own space ---------------------------------------------------

    def network_inputs(self, X: Any) -> NDArray[np.float32]:
        """What the network sees for ``X``: the samples scaled, or a table's columns encoded
        (numbers scaled, categories one-hot, missing indicators), one row per sample.

        Parameters
        ----------
        X : array-like
            Samples as ``fit`` took them: rows, images or a DataFrame with the same columns.

        Returns
        -------
        x : ndarray of shape (n_samples, *input_shape), float32
        """
        return self._scaled(X)[0]

    def network_outputs(self, X: Any) -> NDArray[np.float32]:
        """The network's reconstruction of ``network_inputs(X)``, in the same space.

        Parameters
        ----------
        X : array-like
            Samples as ``fit`` took them: rows, images or a DataFrame with the same columns.

        Returns
        -------
        x_hat : ndarray of shape (n_samples, *input_shape), float32
        """
        return self._map(self.model_, self.network_inputs(X))

    def network_input_names(self) -> list[str] | None:
        """Names of the network's inputs for a table model (``column=level``, ...), else
        ``feature_names_in_`` (None without names).

        Returns
        -------
        names : list of str or None
        """
        check_is_fitted(self, "model_")
        if self.preprocessor_ is not None:
            return self.preprocessor_.encoded_names()
        names = getattr(self, "feature_names_in_", None)
        return None if names is None else [str(n) for n in names]

    def corrupt(self, X: ArrayLike, random_state: int = 0) -> NDArray[np.float32]:
        """``X`` with the noise this model was trained against (``noise``, ``noise_level``),
        applied in the scaled space as in training, returned in the data's units.

        For showing what a denoiser removes; a model without ``noise`` returns ``X`` as is.
        ``random_state`` seeds the noise.

        Parameters
        ----------
        X : array-like
            Samples as ``fit`` took them: rows, images or a DataFrame with the same columns.
        random_state : int, default=0
            Seed of the noise.

        Returns
        -------
        X_noisy : ndarray of X's shape, float32
        """
        x, shape = self._scaled(X)
        generator = torch.Generator().manual_seed(int(random_state))
        noisy = corrupt_tensor(
            torch.from_numpy(x), self.noise, self.noise_level, generator, clip=self._noise_clip()
        ).numpy()
        return np.asarray(self._unscale(noisy, shape))

    # --- outputs -------------------------------------------------------------------

    def transform(self, X: ArrayLike) -> NDArray[np.float32]:
        """Latent codes (the posterior mean for a variational model).

        Parameters
        ----------
        X : array-like
            Samples as ``fit`` took them: rows, images or a DataFrame with the same columns.

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
        a DataFrame with the columns used, categories as their most likely level).

        Parameters
        ----------
        X : array-like
            Samples as ``fit`` took them: rows, images or a DataFrame with the same columns.

        Returns
        -------
        X_hat : ndarray of X's shape, or a DataFrame for a table model
        """
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

        Examples
        --------
        >>> from aekit import Autoencoder
        >>> from aekit.datasets import load_digits
        >>> X, _ = load_digits()
        >>> ae = Autoencoder(noise="gaussian", max_epochs=3, random_state=0).fit(X)
        >>> noisy = ae.corrupt(X[:10], random_state=0)
        >>> ae.denoise(noisy).shape
        (10, 64)
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

        Parameters
        ----------
        X : array-like
            Samples as ``fit`` took them: rows, images or a DataFrame with the same columns.
        per_feature : bool, default=False
            Keep each value's (each column's, for a table) error instead of their mean.

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
        if self.preprocessor_ is not None:
            squared = self._per_column(squared)
        if per_feature:
            return squared
        return np.asarray(squared.reshape(len(x), -1).mean(axis=1), dtype=np.float64)

    def score_samples(self, X: ArrayLike) -> NDArray[np.float64]:
        """Negative reconstruction error of each sample: higher means better reconstructed.

        Parameters
        ----------
        X : array-like
            Samples as ``fit`` took them.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
        """
        return -self.reconstruction_error(X)

    def score(self, X: ArrayLike, y: object = None) -> float:
        """Negative mean squared reconstruction error (higher is better), for model selection.

        Parameters
        ----------
        X : array-like
            Samples as ``fit`` took them.
        y : ignored

        Returns
        -------
        score : float
            ``-mean(reconstruction_error(X))``.
        """
        return float(self.score_samples(X).mean())

    def sample(self, n_samples: int = 1, *, random_state: int | None = None) -> Any:
        """Draw samples from a variational model: codes from N(0, I), decoded.

        Parameters
        ----------
        n_samples : int, default=1
        random_state : int, optional
            Seed of the codes drawn.

        Returns
        -------
        X_sampled : ndarray of shape (n_samples, *sample_shape_), in the data's units

        Examples
        --------
        >>> from aekit import Autoencoder
        >>> from aekit.datasets import load_digits
        >>> X, _ = load_digits()
        >>> vae = Autoencoder(latent_dim=2, variational=True, max_epochs=3, random_state=0).fit(X)
        >>> vae.sample(4, random_state=0).shape
        (4, 64)
        """
        check_is_fitted(self, "model_")
        if not self.variational:
            raise ValueError("sample() needs a variational model; fit with variational=True")
        if not isinstance(n_samples, Integral) or isinstance(n_samples, bool) or n_samples < 1:
            raise ValueError(f"n_samples={n_samples!r} must be a positive integer")
        values = int(n_samples) * (self.latent_dim + 2 * int(self.n_features_in_))
        check_memory(values * 4, f"sample({n_samples}) needs", "(codes, outputs)", "draw fewer")
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

        Examples
        --------
        >>> from aekit import Autoencoder
        >>> from aekit.datasets import load_digits
        >>> X, _ = load_digits(images=True)
        >>> ae = Autoencoder(latent_dim=4, max_epochs=3, random_state=0).fit(X)
        >>> ae.interpolate(X[0], X[1], steps=5).shape
        (5, 8, 8)
        """
        check_is_fitted(self, "model_")
        if not isinstance(steps, Integral) or isinstance(steps, bool) or steps < 2:
            raise ValueError(f"steps={steps!r} must be an integer >= 2 (both ends are included)")
        if method not in ("linear", "spherical"):
            raise ValueError(f"method={method!r} is not one of linear, spherical")
        if self.preprocessor_ is not None:
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

        Examples
        --------
        >>> import torch
        >>> from aekit import Autoencoder
        >>> from aekit.datasets import load_digits
        >>> X, _ = load_digits()
        >>> ae = Autoencoder(latent_dim=8, max_epochs=2, random_state=0).fit(X)
        >>> encoder = ae.encoder_module()
        >>> encoder(torch.from_numpy(X[:3])).shape
        torch.Size([3, 8])
        """
        check_is_fitted(self, "model_")
        if self.preprocessor_ is not None:
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
        """Write the fitted model to one ``.safetensors`` file (atomically); see ``aekit.load``.

        Parameters
        ----------
        path : str or Path

        Returns
        -------
        path : Path
            The file written.
        """
        from aekit.io.model_file import save

        return save(self, path)

    def to_onnx(self, path: str | Path) -> Path:
        """Write the fitted model as one ONNX graph (atomically), raw samples in, ``code``
        and ``reconstruction`` out; see ``aekit.export.to_onnx``. Needs ``aekit[onnx]``.

        Parameters
        ----------
        path : str or Path
            The ``.onnx`` file to write.

        Returns
        -------
        path : Path
            The file written.
        """
        from aekit.export import to_onnx

        return to_onnx(self, path)

    # --- model files ---------------------------------------------------------------

    def _to_file(
        self, *, preprocessing: bool = True
    ) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        """This estimator's part of a model file: parameters, network, fitted state (and
        its preprocessing, unless a detector holds it for its members)."""
        from aekit.io.model_file import as_tensors, json_params

        check_is_fitted(self, "model_")
        fitted: dict[str, Any] = {
            "n_features_in_": int(self.n_features_in_),
            "history_": self.history_.to_dict(),
        }
        if hasattr(self, "feature_names_in_"):
            fitted["feature_names_in_"] = [str(n) for n in self.feature_names_in_]
        arrays: dict[str, NDArray[Any]] = {}
        if preprocessing:
            state, arrays = preprocessing_to_file(self)
            fitted |= state
        body = {
            "params": json_params(self.get_params(deep=False)),
            "kind": self.model_.kind,
            "config": self.model_.config.to_json(),
            "fitted": fitted,
        }
        tensors = {
            f"model.{k}": v.detach().cpu().contiguous() for k, v in self.model_.state_dict().items()
        }
        return body, tensors | as_tensors(arrays, "fitted.")

    @classmethod
    def _from_file(
        cls,
        body: dict[str, Any],
        tensors: dict[str, torch.Tensor],
        *,
        checkpoint: bool = False,
        shared: bool = False,
    ) -> Autoencoder:
        """An estimator from its part of a model file (``_to_file``); ``shared``: a detector's
        member, whose preprocessing the detector restores."""
        from aekit.io.model_file import params_from_json, with_prefix

        estimator = cls(**params_from_json(cls, body["params"]))
        model = build_model(body["kind"], dict(body["config"]), init="torch")
        model.load_state_dict(with_prefix(tensors, "model."), strict=True)
        estimator.model_ = model.eval()
        fitted = body["fitted"]
        estimator.n_features_in_ = int(fitted["n_features_in_"])
        if "feature_names_in_" in fitted:
            estimator.feature_names_in_ = np.asarray(fitted["feature_names_in_"], dtype=object)
        estimator.history_ = History.from_dict(fitted["history_"])
        estimator._n_features_out = estimator.latent_dim
        if not shared:
            arrays = {k: v.numpy() for k, v in with_prefix(tensors, "fitted.").items()}
            estimator.sample_shape_, estimator.scaler_, estimator.preprocessor_ = (
                preprocessing_from_file(fitted, arrays)
            )
        return estimator

    @classmethod
    def _progress_from_file(cls, tensors: dict[str, torch.Tensor], info: dict[str, Any]) -> Any:
        return LoopState.from_file_parts(tensors, info)

    @property
    def n_epochs_(self) -> int:
        """Epochs trained."""
        check_is_fitted(self, "history_")
        return self.history_.n_epochs


def preprocessing_to_file(estimator: Any) -> tuple[dict[str, Any], dict[str, NDArray[Any]]]:
    """An estimator's fitted preprocessing as JSON state and arrays (``sample_shape_``,
    ``scaler_`` and a table's ``preprocessor_``)."""
    state: dict[str, Any] = {
        "sample_shape_": list(estimator.sample_shape_),
        "scaler_method": estimator.scaler_.method,
    }
    arrays: dict[str, NDArray[Any]] = {
        "scaler.offset": estimator.scaler_.offset,
        "scaler.scale": estimator.scaler_.scale,
    }
    if estimator.preprocessor_ is not None:
        state["preprocessor"], table_arrays = estimator.preprocessor_.to_state()
        arrays |= {f"preprocessor.{k}": v for k, v in table_arrays.items()}
    return state, arrays


def preprocessing_from_file(
    state: dict[str, Any], arrays: dict[str, NDArray[Any]]
) -> tuple[tuple[int, ...], Scaler, TablePreprocessor | None]:
    """Inverse of ``preprocessing_to_file``: ``(sample_shape_, scaler_, preprocessor_)``."""
    shape = tuple(int(s) for s in state["sample_shape_"])
    scaler = Scaler(state["scaler_method"], arrays["scaler.offset"], arrays["scaler.scale"])
    if np.broadcast_shapes(scaler.offset.shape, shape) != shape:
        raise ValueError(f"scaling statistics {scaler.offset.shape} do not fit samples {shape}")
    table = None
    if state.get("preprocessor") is not None:
        prefix = "preprocessor."
        table_arrays = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
        table = TablePreprocessor.from_state(state["preprocessor"], table_arrays)
    return shape, scaler, table


def preprocess(estimator: Any, X: Any) -> tuple[NDArray[np.float32], tuple[int, ...]]:
    """``X`` validated against ``estimator`` (its features and names) and mapped by its
    fitted preprocessing (``preprocessor_`` or ``scaler_``): model-space rows
    ``(n, *sample_shape_)``, and the shape of one sample of X as given."""
    rows, shape, to_model = validated_rows(estimator, X)
    return to_model(rows), shape


def validated_rows(
    estimator: Any, X: Any
) -> tuple[NDArray[np.float32], tuple[int, ...], Callable[[NDArray[np.float32]], NDArray[Any]]]:
    """``preprocess`` in two steps, for scoring batch by batch: ``X`` validated (a table
    already encoded), the shape of one sample of X as given, and the function that maps
    any slice of those rows into model space (the scaling; for a table, nothing more), so
    that no scaled copy of the whole of X is made."""
    table = estimator.preprocessor_
    if table is not None:
        return table.transform(X), estimator.sample_shape_, _unchanged
    X = validate_samples(estimator, X, reset=False)
    shape = tuple(X.shape[1:])
    return X.reshape(len(X), *estimator.sample_shape_), shape, estimator.scaler_.transform


def _unchanged(rows: NDArray[np.float32]) -> NDArray[np.float32]:
    return rows


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
