"""``aekit ...``: parse arguments, call the public API, print. No logic lives only here.

torch is imported inside the commands, so ``aekit --help`` answers at once.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

EPILOG = {
    "fit": "example:\n  aekit fit transactions.csv -o model.safetensors --latent-dim 4\n"
    "  aekit fit shop.csv -o m.safetensors --detector --categorical store_id --ignore order_id\n"
    "  aekit fit big.parquet -o m.safetensors --checkpoint ck.safetensors   # Ctrl-C saves\n"
    "  aekit fit big.parquet -o m.safetensors --resume ck.safetensors       # and goes on\n"
    "  aekit fit mnist -o vae.safetensors --kind conv --variational --latent-dim 2\n"
    "  aekit fit sensors.parquet -o detector.safetensors --detector --contamination 0.02",
    "encode": "example:\n  aekit encode model.safetensors data.csv -o codes.csv",
    "reconstruct": "example:\n  aekit reconstruct model.safetensors data.npy -o reconstructed.npy",
    "score": "example:\n  aekit score detector.safetensors new.csv -o scores.csv\n"
    "  (columns: reconstruction_error, higher = more anomalous; a detector writes\n"
    "   anomaly_score (reconstruction_error plus code and hidden distances) first, then\n"
    "   p_value and is_anomaly, 1 for anomalies; --explain adds error:COLUMN for each column)",
    "denoise": "example:\n  aekit denoise denoiser.safetensors noisy/ -o clean/",
    "generate": "example:\n  aekit generate vae.safetensors -n 64 -o samples.png",
    "info": "example:\n  aekit info model.safetensors",
    "demo": "example:\n  aekit demo -o aekit-demo",
    "report": "example:\n  aekit report model.safetensors test.csv -o report.html\n"
    "  aekit report detector.safetensors test.csv --label-column is_fraud -o report.html\n"
    "  aekit report model.safetensors mnist-test --labels labels.npy --train mnist -o r.html",
}
CHUNK = 65_536  # rows per call when showing progress on large inputs


class UserError(Exception):
    """A problem the user can fix; printed as one line."""


class _Parser(argparse.ArgumentParser):
    """Usage mistakes as one line (and the exit status 2 argparse uses)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    from aekit._version import __version__

    parser = _Parser(
        prog="aekit",
        description="Autoencoders for dimensionality reduction, anomaly detection, denoising "
        "and generation.",
        epilog="run 'aekit COMMAND --help' for each command's options and an example",
    )
    parser.add_argument("--version", action="version", version=f"aekit {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=EPILOG[name],
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sub.add_argument("--quiet", action="store_true", help="no progress bars")
        sub.add_argument("--debug", action="store_true", help="show tracebacks on errors")
        return sub

    fit = command("fit", "train a model on DATA and save it")
    _add_data(fit)
    fit.add_argument("-o", "--output", required=True, help="model file to write (.safetensors)")
    fit.add_argument("--kind", default="dense", help="architecture: dense or conv")
    fit.add_argument("--latent-dim", type=int, default=None, help="size of the code")
    fit.add_argument("--hidden-dims", type=_int_list, help="encoder widths, e.g. 256,128")
    fit.add_argument("--channels", type=_int_list, help="conv feature maps, e.g. 32,64")
    fit.add_argument("--activation", default="relu")
    fit.add_argument("--loss", default="mse", choices=["mse", "bce"])
    fit.add_argument("--scale", default=None, help="auto, minmax, standard, robust or none")
    fit.add_argument("--variational", action="store_true", help="train a VAE")
    fit.add_argument("--beta", type=float, default=1.0, help="KL weight of a VAE")
    fit.add_argument("--sparsity", type=float, default=0.0, help="weight of a code penalty")
    fit.add_argument(
        "--noise",
        choices=["gaussian", "masking", "salt_pepper"],
        help="train a denoiser on corrupted inputs",
    )
    fit.add_argument("--noise-level", type=float, default=None)
    fit.add_argument("--max-epochs", type=int, default=None)
    fit.add_argument("--batch-size", type=int, default=None)
    fit.add_argument("--learning-rate", type=float, default=None)
    fit.add_argument("--device", default="auto", help="auto, cpu or cuda")
    fit.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    fit.add_argument(
        "--categorical",
        type=_name_list,
        metavar="COL[,COL]",
        help="table columns to one-hot encode whatever their type (e.g. integer codes)",
    )
    fit.add_argument(
        "--ignore", type=_name_list, metavar="COL[,COL]", help="table columns to leave out"
    )
    fit.add_argument(
        "--detector",
        action="store_true",
        help="train an anomaly detector (adds thresholds and p-values)",
    )
    fit.add_argument("--contamination", type=float, help="detector: expected anomaly share")
    fit.add_argument(
        "--false-positive-rate",
        type=float,
        help="detector: calibrated false-alarm rate instead of contamination",
    )
    fit.add_argument(
        "--patience",
        type=int,
        default=10,
        help="epochs without improvement before stopping (default 10)",
    )
    fit.add_argument(
        "--no-early-stopping",
        action="store_true",
        help="train all --max-epochs (the best epoch's weights are still kept)",
    )
    fit.add_argument("--checkpoint", help="write the training state here as it goes")
    fit.add_argument(
        "--checkpoint-every",
        type=int,
        default=1,
        metavar="N",
        help="epochs between checkpoints (default 1)",
    )
    fit.add_argument(
        "--resume",
        metavar="CHECKPOINT",
        help="continue the run saved in this checkpoint (same data and options)",
    )

    for name, help_text in [
        ("encode", "write the latent code of each sample"),
        ("reconstruct", "write each sample's reconstruction"),
        ("score", "write anomaly scores (and p-values and labels for a detector)"),
        ("denoise", "write denoised samples"),
    ]:
        sub = command(name, help_text)
        sub.add_argument("model", help="model file written by 'aekit fit'")
        _add_data(sub)
        sub.add_argument("-o", "--output", required=True, help="file or folder to write")
        if name == "score":
            sub.add_argument(
                "--explain",
                action="store_true",
                help="add each feature's (each table column's) error as error:NAME columns",
            )

    generate = command("generate", "write samples drawn from a variational model")
    generate.add_argument("model")
    generate.add_argument("-n", "--n-samples", type=int, default=16)
    generate.add_argument("-o", "--output", required=True, help="file or folder to write")
    generate.add_argument("--seed", type=int, default=0)

    info = command("info", "describe a model file: configuration, sizes, training")
    info.add_argument("model")
    info.add_argument("--json", action="store_true", help="print JSON")

    report = command("report", "write a self-contained HTML report on a model and data")
    report.add_argument("model", help="model file written by 'aekit fit'")
    _add_data(report)
    report.add_argument("-o", "--output", required=True, help="the .html file to write")
    report.add_argument(
        "--labels",
        help="a .npy, .npz or one-column .csv of labels "
        "(classes colour the latent space; for a detector, 1 = anomaly)",
    )
    report.add_argument("--label-column", help="take the labels from this column of DATA")
    report.add_argument("--train", help="the training data, so PCA is compared held-out")

    demo = command("demo", "train on the bundled digits, run every task, write the results")
    demo.add_argument("-o", "--output", default="aekit-demo", help="folder to write")
    demo.add_argument("--seed", type=int, default=0)
    return parser


def _add_data(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "data",
        help="a .csv, .parquet, .npy or .npz file, a folder of images, "
        "or a built-in data set: digits, digits-images, mnist, mnist-test",
    )
    parser.add_argument("--key", help="array name inside an .npz file")


def _name_list(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"{text!r} names no column")
    return names


def _int_list(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a comma-separated list of integers"
        ) from None


# --- commands -------------------------------------------------------------------------


def cmd_fit(args: argparse.Namespace) -> int:
    import signal
    import threading

    import aekit
    from aekit.data.files import check_writable, read_data
    from aekit.data.loaders import is_table_path

    check_writable(args.output)  # before training, not after
    if args.checkpoint:
        check_writable(args.checkpoint)
    X = args.data if is_table_path(args.data) else read_data(args.data, key=args.key)
    cls = aekit.AnomalyDetector if args.detector else aekit.Autoencoder
    options: dict[str, Any] = {
        "latent_dim": args.latent_dim,
        "hidden_dims": args.hidden_dims,
        "channels": args.channels,
        "scale": args.scale,
        "noise_level": args.noise_level,
        "max_epochs": args.max_epochs,
        "batch_size": args.batch_size,
        "learning_rate": args.learning_rate,
    }
    if args.detector:
        options |= {
            "contamination": args.contamination,
            "false_positive_rate": args.false_positive_rate,
        }
    elif args.contamination is not None or args.false_positive_rate is not None:
        raise UserError("--contamination and --false-positive-rate need --detector")
    params = {k: v for k, v in options.items() if v is not None}
    model = cls(
        args.kind,
        activation=args.activation,
        loss=args.loss,
        variational=args.variational,
        beta=args.beta,
        sparsity=args.sparsity,
        noise=args.noise,
        device=args.device,
        random_state=args.seed,
        patience=None if args.no_early_stopping else args.patience,
        verbose=0 if args.quiet else 1,
        categorical=args.categorical,
        ignore=args.ignore,
        **params,
    )
    if args.checkpoint_every < 1:
        raise UserError(f"--checkpoint-every must be at least 1, got {args.checkpoint_every}")
    stop, received = threading.Event(), []

    def request_stop(signum: int, frame: object) -> None:
        if stop.is_set():  # a second Ctrl-C means now
            raise KeyboardInterrupt
        received.append(signum)
        stop.set()
        print("\naekit: stopping after the current step (again to abort)", file=sys.stderr)

    previous = {s: signal.signal(s, request_stop) for s in (signal.SIGINT, signal.SIGTERM)}
    finished = False
    try:
        model.fit(
            X,
            checkpoint=args.checkpoint,
            checkpoint_every=args.checkpoint_every,
            resume=args.resume,
            stop=stop,
        )
        finished = True
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        main_rank = _leave_process_group(wait=finished)
    if not main_rank:  # under torchrun only rank 0 writes the model and speaks
        return 0
    history = model.history_
    if history.n_epochs == 0:
        print("aekit: interrupted before the first epoch finished; nothing saved", file=sys.stderr)
        return 128 + received[0]
    path = model.save(args.output)
    best = history.best_epoch if history.best_epoch is not None else history.n_epochs - 1
    how = "interrupted after" if history.interrupted else "trained for"
    print(
        f"{how} {history.n_epochs} epochs: {type(model).__name__} (kind={args.kind}, "
        f"latent_dim={model.latent_dim}) on {_n_rows(X)} samples in {history.fit_seconds:.1f}s; "
        f"best epoch {best + 1}, loss {history.monitored[best]:.4g}"
    )
    if history.interrupted:
        print(
            f"saved the best model so far (epoch {best + 1}) to {path}"
            + (f"; continue with --resume {args.checkpoint}" if args.checkpoint else "")
        )
        return 128 + received[0]
    print(f"saved {path}")
    return 0


def cmd_encode(args: argparse.Namespace) -> None:
    if _streams(args):
        model = _checked_model(args)
        names = [str(n) for n in model.get_feature_names_out()]
        _stream(args, model, lambda frame: (names, model.transform(frame)), "encoding")
        return
    model, X = _model_and_data(args)
    codes = _in_chunks(model.transform, X, args.quiet, "encoding")
    _write(args.output, codes, columns=list(model.get_feature_names_out()))


def cmd_reconstruct(args: argparse.Namespace) -> None:
    if _streams(args):
        model = _checked_model(args)
        _stream(
            args,
            model,
            lambda frame: ([str(c) for c in frame.columns], model.reconstruct(frame)),
            "reconstructing",
        )
        return
    model, X = _model_and_data(args)
    _write(
        args.output,
        _in_chunks(model.reconstruct, X, args.quiet, "reconstructing"),
        columns=_columns(X),
    )  # a table model's reconstruction is a DataFrame with its own columns


def cmd_denoise(args: argparse.Namespace) -> None:
    model, X = _model_and_data(args)
    if getattr(model, "noise", None) is None:
        print(
            "warning: this model was trained without --noise; its output is a plain reconstruction",
            file=sys.stderr,
        )
    _write(args.output, _in_chunks(model.denoise, X, args.quiet, "denoising"), columns=_columns(X))


DETECTOR_COLUMNS = ["anomaly_score", "reconstruction_error", "p_value", "is_anomaly"]


def _detector_columns(model: Any, X: Any) -> Any:
    """A detector's score columns for ``X``: its networks run once for all four."""
    import numpy as np

    scores, errors = model.score_parts(X)
    is_anomaly = (-scores - float(model.offset_)) < 0  # as predict() decides
    p_values = model._pvalues_from_errors(scores)
    return np.column_stack([scores, errors, p_values, is_anomaly]).astype(np.float32)


def cmd_score(args: argparse.Namespace) -> None:
    import numpy as np

    if _streams(args):
        model = _checked_model(args)
        flagged = [0]

        def score(frame: Any) -> tuple[list[str], Any]:
            if not hasattr(model, "pvalues"):
                errors = model.reconstruction_error(frame)
                return ["reconstruction_error"], errors.astype(np.float32)[:, None]
            table = _detector_columns(model, frame)
            flagged[0] += int(table[:, -1].sum())
            return DETECTOR_COLUMNS, table

        n = _stream(args, model, score, "scoring")
        if hasattr(model, "pvalues"):
            print(f"{flagged[0]} of {n} samples flagged as anomalies")
        return
    model, X = _model_and_data(args)
    if hasattr(model, "pvalues"):
        table = _in_chunks(lambda part: _detector_columns(model, part), X, args.quiet, "scoring")
        columns, values = list(DETECTOR_COLUMNS), list(table.T)
    else:
        columns = ["reconstruction_error"]
        values = [_in_chunks(model.reconstruction_error, X, args.quiet, "scoring")]
    if args.explain:
        per_feature = _in_chunks(
            lambda part: model.reconstruction_error(part, per_feature=True), X, True, ""
        )
        per_feature = np.asarray(per_feature).reshape(len(per_feature), -1)
        names = _feature_names(model) or [f"x{i}" for i in range(per_feature.shape[1])]
        if len(names) != per_feature.shape[1]:
            names = [f"x{i}" for i in range(per_feature.shape[1])]
        columns += [f"error:{n}" for n in names]
        values += list(per_feature.T)
    table = np.column_stack(values).astype(np.float32)
    _write(args.output, table, columns=columns)
    if hasattr(model, "pvalues"):
        print(f"{int(values[3].sum())} of {len(table)} samples flagged as anomalies")


def cmd_generate(args: argparse.Namespace) -> None:
    model = _load(args.model)
    if args.n_samples < 1:
        raise UserError(f"-n must be a positive number of samples, got {args.n_samples}")
    samples = model.sample(args.n_samples, random_state=args.seed)
    _write(args.output, samples, columns=_feature_names(model))


def cmd_info(args: argparse.Namespace) -> None:
    model = _load(args.model)
    history = model.history_
    n_params = sum(p.numel() for p in model.model_.parameters())
    best = history.best_epoch if history.best_epoch is not None else history.n_epochs - 1
    summary = {
        "file": str(args.model),
        "file_bytes": Path(args.model).stat().st_size,
        "estimator": type(model).__name__,
        "kind": model.model_.kind,
        "config": model.model_.config.to_json(),
        "parameters": n_params,
        "sample_shape": list(model.sample_shape_),
        "scaling": model.scaler_.method,
        "training": {
            "epochs": history.n_epochs,
            "best_epoch": best + 1,
            "stopped_early": history.stopped_early,
            "train_loss": history.train_loss[best],
            "val_loss": history.val_loss[best] if history.val_loss else None,
            "seconds": round(history.fit_seconds, 2),
        },
    }
    table = getattr(model, "preprocessor_", None)
    if table is not None:
        summary["scaling"] = (
            "table: robust numbers, one-hot categories (rare levels hashed, unseen flagged), "
            "missing indicators"
        )
        summary["columns"] = table.describe_columns()
    if hasattr(model, "offset_"):
        rule = (
            f"false_positive_rate={model.false_positive_rate}"
            if model.false_positive_rate is not None
            else f"contamination={model.contamination}"
        )
        summary["threshold"] = {"anomaly_score_above": -float(model.offset_), "rule": rule}
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    config = summary.pop("config")
    training = summary.pop("training")
    for key, value in summary.items():
        print(f"{key:14s} {value}")
    print("config")
    for key, value in config.items():
        print(f"  {key:20s} {value}")
    print("training")
    for key, value in training.items():
        print(f"  {key:20s} {value}")


def cmd_report(args: argparse.Namespace) -> None:
    import numpy as np

    from aekit.data.files import check_writable, read_data
    from aekit.reporting import write_report

    check_writable(args.output)
    model, X = _load(args.model), read_data(args.data, key=args.key)
    labels = None
    if args.label_column is not None:
        if not hasattr(X, "columns") or args.label_column not in X.columns:
            raise UserError(f"--label-column {args.label_column!r} is not a column of {args.data}")
        labels = X[args.label_column].to_numpy()
        X = X.drop(columns=[args.label_column])
    elif args.labels is not None:
        table = read_data(args.labels)
        labels = np.asarray(table).reshape(len(table), -1)
        if labels.shape[1] != 1:
            raise UserError(f"--labels {args.labels} must hold one column, not {labels.shape[1]}")
        labels = labels[:, 0]
    X_train = read_data(args.train, key=args.key) if args.train else None
    path = write_report(model, X, args.output, labels=labels, X_train=X_train)
    print(f"wrote {path}")


def cmd_demo(args: argparse.Namespace) -> None:
    from aekit.demo import run_demo

    folder = run_demo(Path(args.output), seed=args.seed, quiet=args.quiet)
    print(f"demo results written to {folder}")


COMMANDS: dict[str, Callable[[argparse.Namespace], int | None]] = {
    "fit": cmd_fit,
    "encode": cmd_encode,
    "reconstruct": cmd_reconstruct,
    "score": cmd_score,
    "denoise": cmd_denoise,
    "generate": cmd_generate,
    "info": cmd_info,
    "report": cmd_report,
    "demo": cmd_demo,
}


# --- helpers --------------------------------------------------------------------------


def _load(path: str) -> Any:
    from aekit import load

    return load(path)


def _model_and_data(args: argparse.Namespace) -> tuple[Any, Any]:
    from aekit.data.files import check_writable, read_data

    check_writable(args.output, folder=Path(args.output).suffix == "")
    return _load(args.model), read_data(args.data, key=args.key)


def _streams(args: argparse.Namespace) -> bool:
    """Whether input and output are tables to stream in chunks (Parquet or CSV)."""
    from aekit.data.loaders import is_table_path

    tables = (".csv", ".parquet")
    source = is_table_path(args.data) or Path(args.data).suffix.lower() == ".csv"
    plain = args.key is None and not getattr(args, "explain", False)  # --explain: in memory
    return source and Path(args.output).suffix.lower() in tables and plain


def _checked_model(args: argparse.Namespace) -> Any:
    from aekit.data.files import check_writable

    check_writable(args.output)
    if not Path(args.data).exists():
        raise FileNotFoundError(f"data {args.data!r} not found")
    return _load(args.model)


def _stream(
    args: argparse.Namespace, model: Any, fn: Callable[[Any], tuple[list[str], Any]], label: str
) -> int:
    """Stream DATA through ``fn`` into the output, chunk by chunk, behind a progress bar."""
    from aekit.data.loaders import map_table

    columns, text = _feature_names(model), []
    table = getattr(model, "preprocessor_", None)
    if table is not None:  # categories and booleans stay text; numbers are float64
        columns = [n for n, kind in table.kinds_.items() if kind == "numeric"]
        text = [n for n, kind in table.kinds_.items() if kind != "numeric"]
    n = map_table(
        args.data,
        args.output,
        fn,
        columns=columns,
        text_columns=text,
        quiet=args.quiet,
        label=label,
    )
    print(f"wrote {n} rows to {args.output}")
    return n


def _n_rows(X: Any) -> int:
    if isinstance(X, str):
        from aekit.data.loaders import ParquetSource

        return ParquetSource(X).n_rows
    return len(X)


def _leave_process_group(*, wait: bool) -> bool:
    """End a ``torchrun`` process group if one was joined; whether this is rank 0.

    After a failure, leave without waiting for the other ranks (torchrun stops them).
    """
    if "torch" not in sys.modules:
        return True
    from aekit.training import distributed

    main = distributed.is_main()
    distributed.shutdown(wait=wait)
    return main


def _in_chunks(fn: Callable[[Any], Any], X: Any, quiet: bool, label: str) -> Any:
    """``fn(X)``, in row chunks behind a progress bar when X is large."""
    import numpy as np

    if len(X) <= CHUNK:
        return fn(X)
    from tqdm.auto import tqdm

    starts = range(0, len(X), CHUNK)
    parts = [
        fn(X.iloc[s : s + CHUNK] if hasattr(X, "iloc") else X[s : s + CHUNK])
        for s in tqdm(starts, desc=label, unit="chunk", disable=quiet)
    ]
    if parts and hasattr(parts[0], "iloc"):  # a table model's DataFrames
        import pandas as pd

        return pd.concat(parts, ignore_index=True)
    return np.concatenate([np.asarray(p) for p in parts])


def _columns(X: Any) -> list[str] | None:
    return [str(c) for c in X.columns] if hasattr(X, "columns") else None


def _feature_names(model: Any) -> list[str] | None:
    names = getattr(model, "feature_names_in_", None)
    return [str(n) for n in names] if names is not None else None


def _write(output: str, data: Any, *, columns: list[str] | None) -> None:
    import numpy as np

    from aekit.data.files import write_data

    if not hasattr(data, "columns"):
        data = np.asarray(data)
    path = write_data(output, data, columns=columns)
    print(f"wrote {len(data)} rows to {path}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        status = COMMANDS[args.command](args) or 0
    except KeyboardInterrupt:
        print("aekit: interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        if args.debug or not _is_user_error(error):
            raise
        print(f"aekit: error: {_one_line(error)}", file=sys.stderr)
        return 1
    return status


def _is_user_error(error: Exception) -> bool:
    from sklearn.exceptions import NotFittedError

    return isinstance(
        error,
        (
            UserError,
            ValueError,
            FileNotFoundError,
            PermissionError,
            IsADirectoryError,
            NotADirectoryError,
            NotFittedError,
        ),
    )


def _one_line(error: Exception) -> str:
    text = str(error) or type(error).__name__
    if isinstance(error, FileNotFoundError) and error.filename:
        text = f"{error.filename}: {error.strerror}" if error.strerror else text
    return " ".join(text.split())
