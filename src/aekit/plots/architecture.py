"""The network as a diagram: encoder, code and decoder as boxes sized by the tensors they make."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch, Rectangle

from aekit.plots._common import (
    CODE_COLOR,
    DATA_COLOR,
    DECODER_COLOR,
    ENCODER_COLOR,
    figure_and_axes,
)

LAYER_GID = "aekit-layer"  # every box standing for a tensor carries it (tests count them)
_PART_COLOR = {
    "input": DATA_COLOR,
    "encoder": ENCODER_COLOR,
    "code": CODE_COLOR,
    "decoder": DECODER_COLOR,
    "output": DATA_COLOR,
}
# reshapes (and an empty Sequential, a leaf): the shape in the next box says it
_SKIPPED = {"Flatten", "Unflatten", "Identity", "Sequential"}


@dataclass
class _Stage:
    """One box: the tensor a layer produces, with the layer that made it."""

    part: str  # input, encoder, code, decoder, output
    layer: str  # "Linear", "Conv 3×3 /2", "μ", ...
    shape: tuple[int, ...]  # one sample, no batch axis
    extras: list[str] = field(default_factory=list)  # activation, dropout, ...

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def shape_text(self) -> str:
        return "×".join(str(s) for s in self.shape)


def plot_architecture(model: Any, *, ax: Axes | None = None) -> Figure:
    """Draw a fitted autoencoder: encoder, code and decoder as an hourglass of boxes.

    Each box is a tensor of one sample: the input, the output of each layer with weights
    (its activation noted), the code and the reconstruction. Box heights follow the log of
    the number of values, so the bottleneck shows; convolutional stages read C×H×W.
    A variational code is drawn as its two heads, μ and log σ².

    Parameters
    ----------
    model : Autoencoder or BaseAE
        A fitted estimator (anything with ``model_``) or the torch module itself, with
        ``encoder``, ``decoder``, ``encode``, ``decode`` and ``config``.
    ax : Axes, optional
        Where to draw; a new figure otherwise.

    Returns
    -------
    fig : Figure

    Examples
    --------
    >>> from aekit import Autoencoder
    >>> from aekit.datasets import load_digits
    >>> from aekit.plots import plot_architecture
    >>> X, _ = load_digits()
    >>> fig = plot_architecture(Autoencoder(latent_dim=2, max_epochs=1).fit(X))
    """
    module = model.model_ if hasattr(model, "model_") else model
    for name in ("encoder", "decoder", "encode", "decode", "config"):
        if not hasattr(module, name):
            raise TypeError(
                f"plot_architecture needs a fitted aekit estimator or model (with {name!r}); "
                f"got {type(model).__name__}"
            )
    stages = _trace(module)
    fig, ax = figure_and_axes(ax, 1.25 * len(stages) + 0.8, 4.2)
    _draw(ax, stages)
    config = module.config
    kind = getattr(module, "kind", type(module).__name__)
    variants = [v for v in ("variational", "sparsity") if getattr(config, v, False)]
    n_params = sum(p.numel() for p in module.parameters())
    title = f"{kind} autoencoder" + (f" ({', '.join(variants)})" if variants else "")
    ax.set_title(
        f"{title}: {n_params:,} parameters\nbox height ~ log(values per sample)", fontsize=10
    )
    return fig


def _trace(module: Any) -> list[_Stage]:
    """Run one zero sample through the network and record each layer's output shape."""
    import torch

    config = module.config
    records: list[tuple[str, Any, tuple[int, ...]]] = []

    def recorder(part: str) -> Any:
        def hook(layer: Any, inputs: Any, output: Any) -> None:
            if isinstance(output, torch.Tensor):
                records.append((part, layer, tuple(output.shape[1:])))

        return hook

    handles = [
        layer.register_forward_hook(recorder(part))
        for part, container in (("encoder", module.encoder), ("decoder", module.decoder))
        for layer in _drawn_layers(container)
    ]
    parameter = next(module.parameters())
    was_training = module.training
    try:
        module.eval()
        with torch.no_grad():
            x = torch.zeros(1, *config.input_shape, dtype=parameter.dtype, device=parameter.device)
            module.decode(module.encode(x))
    finally:
        module.train(was_training)
        for handle in handles:
            handle.remove()

    stages = [_Stage("input", "input", tuple(config.input_shape))]
    code_added = False
    for part, layer, shape in records:
        if part == "decoder" and not code_added:
            stages += _code_stages(config)
            code_added = True
        name = type(layer).__name__
        weight = getattr(layer, "weight", None)
        if hasattr(layer, "diagram_label"):
            stages.append(_Stage(part, str(layer.diagram_label), shape))
        elif isinstance(weight, torch.Tensor) and weight.ndim >= 2:
            stages.append(_Stage(part, _layer_name(layer), shape))
        elif name not in _SKIPPED and stages[-1].part != "input":
            stages[-1].extras.append(name)
    if not code_added:
        stages += _code_stages(config)
    last = stages[-1]
    last.part = "output"
    last.layer = f"{last.layer} → output"
    if last.shape != tuple(config.input_shape):
        last.extras.append(f"crop to {'×'.join(str(s) for s in config.input_shape)}")
        last.shape = tuple(config.input_shape)
    output_activation = getattr(config, "output_activation", "identity")
    if output_activation != "identity":
        last.extras.append(output_activation)
    return stages


def _drawn_layers(container: Any) -> Iterator[Any]:
    """The layers drawn as boxes: leaves, and composite layers that name themselves with a
    ``diagram_label`` (a residual block, an upsampling step), whose insides are not drawn."""
    for child in container.children():
        if hasattr(child, "diagram_label") or not list(child.children()):
            yield child
        else:
            yield from _drawn_layers(child)


def _code_stages(config: Any) -> list[_Stage]:
    latent = (int(config.latent_dim),)
    if getattr(config, "variational", False):
        return [_Stage("code", "μ", latent), _Stage("code", "log σ²", latent)]
    stage = _Stage("code", "code z", latent)
    if getattr(config, "latent_activation", "identity") != "identity":
        stage.extras.append(config.latent_activation)
    if getattr(config, "sparsity", 0.0):
        stage.extras.append(f"sparse ({config.sparsity_penalty})")
    return [stage]


def _layer_name(layer: Any) -> str:
    name = type(layer).__name__
    kernel, stride = getattr(layer, "kernel_size", None), getattr(layer, "stride", None)
    if kernel is None or stride is None:
        return name
    size = "×".join(str(k) for k in kernel)
    if name.startswith("ConvTranspose"):
        return f"ConvT {size} ↑{stride[0]}"
    return f"Conv {size} ↓{stride[0]}" if stride[0] > 1 else f"Conv {size}"


# --- drawing -----------------------------------------------------------------------


def _draw(ax: Axes, stages: list[_Stage]) -> None:
    largest = max(s.size for s in stages)
    tallest = 3.0

    def height(stage: _Stage) -> float:
        fraction = math.log(stage.size) / math.log(largest) if largest > 1 else 1.0
        return 0.3 + (tallest - 0.3) * fraction

    # columns: the two heads of a variational code share one
    columns: list[list[_Stage]] = []
    for stage in stages:
        if columns and stage.part == "code" and columns[-1][0].part == "code":
            columns[-1].append(stage)
        else:
            columns.append([stage])

    width, gap = 0.56, 0.18
    label_y = -tallest / 2 - 0.2
    centres: list[list[tuple[float, float, float]]] = []  # (x, y, h) per box
    for i, column in enumerate(columns):
        boxes = []
        heights = [height(s) for s in column]
        total = sum(heights) + gap * (len(column) - 1)
        top = total / 2
        for stage, h in zip(column, heights, strict=True):
            y = top - h / 2
            _box(ax, float(i), y, width, h, stage)
            boxes.append((float(i), y, h))
            top -= h + gap
        centres.append(boxes)
        label = "\n".join(
            [
                " | ".join(s.layer for s in column),
                " | ".join(s.shape_text for s in column),
                *sorted({e for s in column for e in s.extras}),
            ]
        )
        ax.text(i, label_y, label, ha="center", va="top", fontsize=8, linespacing=1.3)

    for left, right in itertools.pairwise(centres):
        for x0, y0, _ in left:
            for x1, y1, _ in right:
                ax.annotate(
                    "",
                    xy=(x1 - width / 2, y1),
                    xytext=(x0 + width / 2, y0),
                    arrowprops={"arrowstyle": "-|>", "color": "#555555", "lw": 0.8},
                )

    # brackets over the parts
    bracket_y = tallest / 2 + 0.35
    for part in ("encoder", "code", "decoder"):
        index = [i for i, c in enumerate(columns) if any(s.part == part for s in c)]
        if part == "decoder":  # the output box is the decoder's last layer
            index += [i for i, c in enumerate(columns) if c[0].part == "output"]
        if not index:
            continue
        x0, x1 = min(index) - width / 2, max(index) + width / 2
        color = _PART_COLOR[part]
        ax.plot(
            [x0, x0, x1, x1],
            [bracket_y - 0.1, bracket_y, bracket_y, bracket_y - 0.1],
            color=color,
            lw=1.2,
            solid_capstyle="butt",
        )
        text = part
        if part == "code" and len(columns[index[0]]) == 2:
            text = "code: z = μ + σ·ε"
        ax.text(
            (x0 + x1) / 2,
            bracket_y + 0.08,
            text,
            ha="center",
            va="bottom",
            color=color,
            fontsize=9,
            fontweight="bold",
        )

    ax.set_xlim(-0.75, len(columns) - 0.25)
    ax.set_ylim(label_y - 1.3, bracket_y + 0.55)
    ax.set_axis_off()


def _box(ax: Axes, x: float, y: float, width: float, h: float, stage: _Stage) -> None:
    color = _PART_COLOR[stage.part]
    if len(stage.shape) == 3:  # feature maps: a stack of cards behind the box
        for step in (2, 1):
            ax.add_patch(
                Rectangle(
                    (x - width / 2 + 0.06 * step, y - h / 2 + 0.06 * step),
                    width,
                    h,
                    facecolor=color,
                    edgecolor="white",
                    alpha=0.35,
                    lw=0.8,
                )
            )
    ax.add_patch(
        FancyBboxPatch(
            (x - width / 2, y - h / 2),
            width,
            h,
            boxstyle="round,pad=0,rounding_size=0.06",
            facecolor=color,
            edgecolor="#333333",
            lw=0.8,
            gid=LAYER_GID,
            label=f"{stage.part}: {stage.layer} {stage.shape_text}",
        )
    )
    if stage.part == "code":
        ax.text(
            x,
            y,
            stage.layer,
            ha="center",
            va="center",
            color="white",
            fontsize=8,
            fontweight="bold",
        )
