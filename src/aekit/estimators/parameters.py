"""The estimators' parameters, each declared once: default, allowed values, help text.

``Autoencoder`` and ``AnomalyDetector`` inherit these classes (their ``__init__``,
``_parameter_constraints`` and the "Parameters" section of their docstrings come from
here), and ``aekit fit`` derives its options from them. Torch-free, so that the command
line's help answers at once.
"""

from __future__ import annotations

from typing import Any

from aekit.params import (
    Choice,
    DeclaredParams,
    DeviceName,
    Flag,
    Instance,
    Names,
    NoneValue,
    Number,
    Registered,
    Seed,
    Settings,
    Text,
    Verbosity,
    declare_params,
    param,
)

SAME_SEED = (
    "the same integer gives bit-identical results on CPU with the same thread count (aekit "
    "follows the machine's load unless AEKIT_THREADS or --threads fixes it; other counts "
    "agree to float rounding)."
)


@declare_params
class AutoencoderParams(DeclaredParams):
    """The parameters of ``aekit.Autoencoder``."""

    kind: str = param(
        "dense",
        Registered("aekit.models:list_models", "a model kind"),
        help='Architecture: "dense" (an MLP), "conv" (residual convolutional, for images), '
        '"strided_conv" (two strided convolutions: quicker, plainer), "temporal_conv" (1-D '
        'convolutions along time) and "recurrent" (a GRU or LSTM) for sequences (n, steps, '
        "channels) such as a series' windows, or any kind registered with "
        "aekit.models.register (aekit.list_models() names them).",
        kw_only=False,
    )
    latent_dim: int = param(2, Number(int, 1), help="Size of the code.")
    model_params: dict[str, Any] | None = param(
        None,
        NoneValue(),
        Settings(),
        help="The kind's own settings, by name (its configuration class declares them; "
        "aekit.models.kind_settings(kind) lists them): dense takes hidden_dims (encoder "
        "widths, the decoder mirrors them; None picks two wide layers from the input size); "
        "conv takes channels (feature maps of each stage that halves the image; None follows "
        "the image size), blocks (residual blocks per stage, default 1) and hidden_dims "
        "(fully connected widths between the maps and the code; None: (512, 256) for codes "
        "of at most 8 values, none for larger); strided_conv "
        "takes channels (default (32, 64)) and hidden_dims (default none); temporal_conv takes "
        "channels (default (32, 64)) and kernel_size (default 5); recurrent takes cell "
        '("gru" or "lstm"), hidden_size (default 64) and num_layers (default 1). '
        "For example {'hidden_dims': (64, 32)}; on the command line --model-param "
        "hidden_dims=64,32. None keeps the kind's defaults.",
        flag="--model-param",
    )
    activation: str = param(
        "relu",
        Registered("aekit.models._layers:ACTIVATIONS", "an activation"),
        help="Hidden activation: relu, leaky_relu, tanh, elu, gelu, selu, silu, ...",
    )
    latent_activation: str = param(
        "identity",
        Registered("aekit.models._layers:ACTIVATIONS", "an activation"),
        help="Activation applied to the code.",
    )
    output_activation: str = param(
        "auto",
        Choice("auto"),
        Registered("aekit.losses:OUTPUT_ACTIVATIONS", "an output activation"),
        help='"auto": sigmoid when the scaled data lies in [0, 1] (or loss="bce"), else '
        "identity; or identity, sigmoid, tanh.",
    )
    loss: str = param(
        "mse",
        Registered("aekit.losses:LOSSES", "a loss"),
        help='Reconstruction loss: "mse", or "bce" (computed from logits; needs data in [0, 1]).',
    )
    variational: bool = param(
        False,
        Flag(),
        help="A Gaussian code with the reparameterisation trick and a KL term: a variational "
        "autoencoder (VAE), which sample() draws from.",
    )
    beta: float = param(
        1.0,
        Number(float, 0),
        help="Weight of a VAE's KL term (a beta-VAE); it is divided by the values per sample, "
        "like the reconstruction loss, which is a mean over values.",
    )
    sparsity: float = param(
        0.0, Number(float, 0), help="Weight of an activity penalty on the code (a sparse AE)."
    )
    sparsity_penalty: str = param(
        "l1",
        Registered("aekit.models.latent:SPARSITY_PENALTIES", "a sparsity penalty"),
        help='"l1": the mean absolute code; "kl": the KL divergence of each unit\'s mean sigmoid '
        "activation from sparsity_target.",
    )
    sparsity_target: float = param(
        0.05,
        Number(float, 0, 1, "neither"),
        help='Mean activation each code unit is pushed towards with sparsity_penalty="kl".',
    )
    noise: str | None = param(
        None,
        NoneValue(),
        Registered("aekit.models.corruption:NOISE_KINDS", "a noise kind"),
        help="Corrupt the training inputs (gaussian, masking or salt_pepper) against clean "
        "targets: a denoising autoencoder. Never applied at inference.",
    )
    noise_level: float = param(
        0.1,
        Number(float, 0, None, "neither"),
        help="The noise's standard deviation (gaussian) or corruption probability, in scaled "
        "units.",
    )
    dropout: float = param(
        0.0, Number(float, 0, 1, "left"), help="Dropout after each hidden encoder layer."
    )
    weight_init: str = param(
        "glorot",
        Registered("aekit.models._layers:WEIGHT_INITS", "a weight initialisation"),
        help='How linear layers start: "glorot" (Glorot-uniform weights, zero biases: the '
        "classic MNIST network reached 0.58x PCA's test error, against 0.81x with PyTorch's "
        'default) or "torch" (PyTorch\'s default; its smaller first weights suit short '
        "training, as in the anomaly detector). Convolutions always start from PyTorch's "
        "default.",
    )
    scale: str = param(
        "auto",
        Registered("aekit.data.scaling:SCALE_METHODS", "a scaling"),
        help='Input scaling: "auto" is minmax (one range for all values) for images and data '
        'in [0, 1], standard per feature otherwise; or "minmax", "standard", "robust", "none". '
        "A mixed table is encoded by its own preprocessing instead.",
    )
    max_epochs: int = param(50, Number(int, 1), help="Passes over the training data, at most.")
    batch_size: int | str = param(
        "auto",
        Choice("auto"),
        Number(int, 1),
        help='Samples per step; "auto": 1% of the training samples, between 32 and 256, so '
        "that small data sets still get enough steps per epoch.",
    )
    learning_rate: float | str = param(
        "auto",
        Choice("auto"),
        Number(float, 0, None, "neither"),
        help="AdamW's learning rate; \"auto\": the network's own choice, 3e-3, or 1e-3 for a conv "
        "network with fully connected layers before its code (the default for small codes).",
    )
    weight_decay: float = param(0.0, Number(float, 0), help="AdamW's weight decay.")
    lr_schedule: str = param(
        "cosine",
        Registered("aekit.training.loop:LR_SCHEDULES", "a learning-rate schedule"),
        help='"cosine": the learning rate decays to zero over max_epochs; or "constant".',
    )
    max_grad_norm: float | None = param(
        10.0,
        NoneValue(),
        Number(float, 0, None, "neither"),
        help="Gradient clipping threshold; None turns clipping off.",
    )
    trim_fraction: float = param(
        0.0,
        Number(float, 0, 1, "left"),
        help="Share of each batch's samples with the largest reconstruction loss left out of "
        "that step's loss (least trimmed squares; a penalty such as the KL term still counts "
        "every sample): anomalies hidden in unlabelled training data then shape the network "
        "less. 0 trains on every sample.",
    )
    validation_fraction: float = param(
        0.1,
        Number(float, 0, 1, "left"),
        help="Share of the samples held out to monitor training and pick the best epoch; 0 "
        "monitors the training loss.",
    )
    patience: int | None = param(
        10,
        NoneValue(),
        Number(int, 0),
        help="Epochs without improvement before stopping; None never stops early. The best "
        "epoch's weights are kept either way.",
    )
    device: str = param(
        "auto", DeviceName(), help='Where to train: "auto" uses CUDA when present; "cpu", "cuda".'
    )
    random_state: int | Any | None = param(
        None,
        Seed(),
        help="Seed of the initialisation, the batches, the noise and the validation split: "
        + SAME_SEED,
        aliases=("--seed",),
    )
    verbose: int = param(
        0,
        Verbosity(),
        help="1 shows a progress bar over epochs.",
        cli=False,  # the command line shows progress unless --quiet
    )
    categorical: list[str] | None = param(
        None,
        NoneValue(),
        Names(),
        help="DataFrame columns to one-hot encode whatever their dtype or role (integer "
        "codes, a key to use after all).",
    )
    ignore: list[str] | None = param(
        None,
        NoneValue(),
        Names(),
        help="DataFrame columns to leave out of the model, whatever their role.",
    )


@declare_params
class ThresholdParams(DeclaredParams):
    """The threshold rules every detector takes (``aekit.estimators.thresholds``)."""

    contamination: float | str = param(
        "auto",
        Choice("auto"),
        Number(float, 0, 0.5, "right"),
        help='Expected share of anomalies in the training data; "auto" means 0.05 (the classic '
        "95th-percentile rule). The threshold flags that share of the training scores.",
    )
    false_positive_rate: float | None = param(
        None,
        NoneValue(),
        Number(float, 0, 1, "neither"),
        help="Calibrate the threshold to this false-alarm rate on normal data instead of "
        "contamination (split-conformal, on the held-out calibration data).",
    )
    calibration_fraction: float = param(
        0.2,
        Number(float, 0, 1, "left"),
        help="Share of the training data held out (never trained on) for pvalues and "
        "false_positive_rate: random samples of a table, blocks of time of a series.",
    )


@declare_params
class AnomalyDetectorParams(ThresholdParams):
    """The parameters of ``aekit.AnomalyDetector``: its own; its members' are ``estimator``'s."""

    estimator: Any | None = param(
        None,
        NoneValue(),
        Instance("aekit.estimators.autoencoder.Autoencoder"),
        help="The Autoencoder each member is cloned from. None: the one tuned for detection, "
        "AnomalyDetector.default_estimator() (tanh networks of widths (64, 32) and a 2-D code, "
        "standardised inputs, 5 epochs at a learning rate of 2e-2). Its parameters are reached "
        "as estimator__NAME (set_params, GridSearchCV), also when it is None; the detector "
        "sets each member's "
        "random_state and verbose itself.",
        cli=False,  # the command line passes the member's options through set_params
        kw_only=False,
    )
    n_estimators: int = param(5, Number(int, 1), help="Networks in the ensemble.")
    max_samples: int | float | str = param(
        "auto",
        Choice("auto"),
        Number(int, 1),
        Number(float, 0, 1, "right"),
        help="Training rows per member, drawn without replacement from the non-calibration "
        'rows: an int is a count, a float a share; "auto" means min(n, 4096).',
    )
    latent_weight: float = param(
        1.0, Number(float, 0), help="Weight of code_distance in the anomaly score."
    )
    hidden_weight: float = param(
        5.0,
        Number(float, 0),
        help="Weight of hidden_distance in the anomaly score; with latent_weight=0 as well the "
        "score is the relative reconstruction error alone.",
    )
    random_state: int | Any | None = param(
        None,
        Seed(),
        help="Seeds the calibration split, each member's rows and each member's network: "
        + SAME_SEED,
        aliases=("--seed",),
    )
    verbose: int = param(
        0,
        Verbosity(),
        help="1 shows a progress bar over each member's epochs.",
        cli=False,
    )


@declare_params
class WindowParams(DeclaredParams):
    """How the series estimators cut and read a series."""

    window: int | str = param(
        "auto",
        Choice("auto"),
        Number(int, 2),
        help='Timestamps per window. "auto": the series\' dominant period (its strongest '
        "autocorrelation peak between 8 and 300 rows), else 64; at most a third of the "
        "series.",
    )
    stride: int = param(
        1,
        Number(int, 1),
        help="Rows between the starts of training windows (scoring uses every window).",
    )
    time_column: str | None = param(
        None,
        NoneValue(),
        Text(),
        help="The DataFrame column holding the time (else a DatetimeIndex, if any, labels "
        "the rows); every other column is a channel.",
    )
    ignore: list[str] | None = param(
        None,
        NoneValue(),
        Names(),
        help="DataFrame columns that are not channels (labels, keys): left out.",
    )


@declare_params
class TimeSeriesDetectorParams(ThresholdParams, WindowParams):
    """The parameters of ``aekit.TimeSeriesDetector``; those of the detector of windows are
    ``detector``'s."""

    detector: Any | None = param(
        None,
        NoneValue(),
        Instance("aekit.estimators.outlier.AnomalyDetector"),
        help="The AnomalyDetector of windows, cloned and fitted on the series' windows (its "
        "own threshold and calibration split are not used: the series is calibrated on held-"
        "out blocks of time). None: TimeSeriesDetector.default_detector(). Its parameters "
        "are reached as detector__NAME, the members' as detector__estimator__NAME.",
        cli=False,
        kw_only=False,
    )
    scoring: str = param(
        "offline",
        Choice("offline", "causal"),
        help='How a timestamp is scored: "offline" averages every window that covers it; '
        '"causal" reads the window that ends at it, so the score at t uses data up to t '
        "only (a live feed). The threshold is calibrated for this mode.",
    )
    random_state: int | Any | None = param(
        None,
        Seed(),
        help="Seeds the detector of windows: " + SAME_SEED,
        aliases=("--seed",),
    )
    verbose: int = param(0, Verbosity(), help="1 reports the windows and the fit.", cli=False)


@declare_params
class TimeSeriesAutoencoderParams(WindowParams):
    """The parameters of ``aekit.TimeSeriesAutoencoder``; its network's are ``estimator``'s."""

    estimator: Any | None = param(
        None,
        NoneValue(),
        Instance("aekit.estimators.autoencoder.Autoencoder"),
        help="The Autoencoder cloned and fitted on the series' windows. None: "
        "TimeSeriesAutoencoder.default_estimator() (Autoencoder's defaults, no scaling of "
        "its own: the series is scaled per channel). Its parameters are reached as "
        "estimator__NAME; noise= makes it a denoiser.",
        cli=False,
        kw_only=False,
    )
    center_windows: bool = param(
        True,
        Flag(),
        help="Take each window's mean (per channel) out before the network and put it back "
        "after, so the network learns shapes, not levels: a series that drifts out of its "
        "training range is still reconstructed and denoised (the mean half of reversible "
        "instance normalisation, Kim et al., ICLR 2022). Denoising SKAB's drifting channels, "
        "centred windows gained 3.6 dB SNR over uncentred ones (bench/timeseries.py). "
        "False: the network sees each window's level too.",
    )
    random_state: int | Any | None = param(
        None,
        Seed(),
        help="Seeds the network: " + SAME_SEED,
        aliases=("--seed",),
    )
    verbose: int = param(0, Verbosity(), help="1 shows a progress bar over the epochs.", cli=False)
