"""``aekit ...``: parse arguments, call the public API, print. No logic lives only here.

torch is imported inside the commands, so ``aekit --help`` answers at once.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from aekit.cli.options import (
    add_estimator_options,
    autoencoder_params,
    detector_params,
    given_params,
    not_taken,
    split_for_detector,
)

EPILOG = {
    "fit": "example:\n  aekit fit transactions.csv -o model.safetensors --latent-dim 4\n"
    "  aekit fit shop.csv -o m.safetensors --detector --categorical store_id --ignore order_id\n"
    "  aekit fit export.csv -o m.safetensors --detector --sep ';' --decimal ,\n"
    "  aekit fit orders.xlsx -o m.safetensors --detector --sheet 2024\n"
    "  aekit fit big.parquet -o m.safetensors --checkpoint ck.safetensors   # Ctrl-C saves\n"
    "  aekit fit big.parquet -o m.safetensors --resume ck.safetensors       # and goes on\n"
    "  aekit fit mnist -o vae.safetensors --kind conv --variational --latent-dim 2\n"
    "  aekit fit digits -o m.safetensors --model-param hidden_dims=128,64 --random-state 0\n"
    "  aekit fit sensors.parquet -o detector.safetensors --detector --contamination 0.02\n"
    "options not given keep the Python defaults (for --detector, those of\n"
    "AnomalyDetector.default_estimator()); 'none' sets an option that allows it to None",
    "encode": "example:\n  aekit encode model.safetensors data.csv -o codes.csv",
    "reconstruct": "example:\n  aekit reconstruct model.safetensors data.npy -o reconstructed.npy",
    "score": "example:\n  aekit score detector.safetensors new.csv -o scores.csv\n"
    "  (an Autoencoder writes reconstruction_error, its mean squared error in the data's\n"
    "   units; a detector writes anomaly_score (higher = more anomalous), its terms\n"
    "   relative_error, code_distance and hidden_distance, then p_value (with a calibration\n"
    "   split) and is_anomaly, 1 for anomalies; --explain adds each column's error as\n"
    "   error:COLUMN, or relative_error:COLUMN for a detector; a table's identifier\n"
    "   columns, such as order_id, come first in a .csv or .parquet output)",
    "denoise": "example:\n  aekit denoise denoiser.safetensors noisy/ -o clean/",
    "generate": "example:\n  aekit generate vae.safetensors -n 64 -o samples.png",
    "info": "example:\n  aekit info model.safetensors",
    "export": "example:\n  aekit export detector.safetensors -o detector.onnx\n"
    "  (one ONNX graph from the raw input columns to the outputs, batch size dynamic:\n"
    "   a detector's outputs are the columns 'aekit score' writes, an Autoencoder's code\n"
    "   and reconstruction; needs pip install 'aekit[onnx]')",
    "demo": "example:\n  aekit demo -o aekit-demo",
    "report": "example:\n  aekit report model.safetensors test.csv -o report.html\n"
    "  aekit report detector.safetensors test.csv --label-column is_fraud -o report.html\n"
    "  aekit report model.safetensors mnist-test --labels labels.npy --train mnist -o r.html",
}
CHUNK = 65_536  # rows per call when showing progress on large inputs
TABLE_OUTPUTS = (".csv", ".parquet")  # outputs with named, typed columns


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
        sub.add_argument(
            "--threads",
            type=_positive_int,
            metavar="N",
            help="CPU threads to compute with (default: the CPUs free now; see "
            "aekit.training.threads)",
        )
        return sub

    fit = command("fit", "train a model on DATA and save it")
    _add_data(fit)
    fit.add_argument("-o", "--output", required=True, help="model file to write (.safetensors)")
    fit.add_argument(
        "--detector",
        action="store_true",
        help="train an AnomalyDetector (an ensemble of autoencoders, with thresholds and "
        "p-values); the model options then set each member, from the detector's tuned "
        "defaults",
    )
    fit.add_argument(
        "--time-series",
        action="store_true",
        help="DATA is a series: its rows are timestamps, its columns channels (name the time "
        "column with --time-column). Trains a TimeSeriesAutoencoder (reconstruct, denoise, "
        "encode per window), or with --detector a TimeSeriesDetector (scores, p-values and "
        "flags per timestamp)",
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
    add_estimator_options(fit)

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

    export = command("export", "write a model file as an ONNX graph, to score outside Python")
    export.add_argument("model", help="model file written by 'aekit fit'")
    export.add_argument("-o", "--output", required=True, help="the .onnx file to write")

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

    demo = command(
        "demo",
        "train on the bundled digits and a recorded signal, run every task, write the results",
    )
    demo.add_argument("-o", "--output", default="aekit-demo", help="folder to write")
    demo.add_argument("--seed", type=int, default=0)
    return parser


def _add_data(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "data",
        help="a table (.csv, .tsv, .xlsx, .jsonl, .parquet), an array (.npy, .npz), a folder "
        "of images, or a built-in data set: digits, digits-images, mnist, mnist-test",
    )
    parser.add_argument("--key", help="array name inside an .npz file")
    reading = parser.add_argument_group(
        "reading tables (CSV dialects are detected; these override)"
    )
    reading.add_argument(
        "--sep",
        type=_separator,
        help="CSV field separator: a character, or tab, comma, semicolon, pipe",
    )
    reading.add_argument("--decimal", choices=[".", ","], help="CSV decimal mark")
    reading.add_argument("--encoding", help="text encoding of a CSV or JSON Lines file")
    reading.add_argument("--sheet", help="a workbook's sheet, by name or 0-based index")


def _separator(text: str) -> str:
    from aekit.data.dialect import parse_separator

    try:
        return parse_separator(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _read_options(args: argparse.Namespace) -> Any:
    from aekit.data.files import ReadOptions

    return ReadOptions(args.sep, args.decimal, args.encoding, args.sheet)


# --- commands -------------------------------------------------------------------------


def cmd_fit(args: argparse.Namespace) -> int:
    import signal
    import threading

    from aekit.data.files import check_writable, read_data
    from aekit.data.loaders import is_table_path

    check_writable(args.output)  # before training, not after
    if args.checkpoint:
        check_writable(args.checkpoint)
    if args.checkpoint_every < 1:
        raise UserError(f"--checkpoint-every must be at least 1, got {args.checkpoint_every}")
    model = _estimator(args)
    X = (
        args.data
        if is_table_path(args.data)
        else read_data(args.data, key=args.key, options=_read_options(args))
    )
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
    return _save_fitted(model, args, _n_rows(X), received[0] if received else 0)


def _estimator(args: argparse.Namespace) -> Any:
    """The estimator the options ask for: only the options given are passed, so every
    other parameter keeps the default declared in ``aekit.estimators.parameters``."""
    import aekit

    given = given_params(args)
    verbose = 0 if args.quiet else 1
    if args.time_series:
        from aekit.cli.series import SeriesCommandError, series_estimator

        try:
            return series_estimator(given, verbose, args.detector)
        except SeriesCommandError as error:
            raise UserError(str(error)) from None
    series_only = not_taken(given, autoencoder_params(), detector_params())
    detector_only = [] if args.detector else not_taken(given, autoencoder_params())
    refused = [
        f"{', '.join(flags)} {'needs' if len(flags) == 1 else 'need'} {needed}"
        for flags, needed in (
            ([f for f in detector_only if f not in series_only], "--detector"),
            (series_only, "--time-series"),
        )
        if flags
    ]
    if refused:
        raise UserError("; ".join(refused))
    if not args.detector:
        return aekit.Autoencoder(**given, verbose=verbose)
    own, member = split_for_detector(given)
    detector = aekit.AnomalyDetector(**own, verbose=verbose)
    if member:
        detector.set_params(**{f"estimator__{name}": value for name, value in member.items()})
    return detector


def _fit_summary(model: Any, args: argparse.Namespace, n_rows: int) -> tuple[str, str] | None:
    """What ``aekit fit`` says it trained, and what it saved if it was interrupted; None
    when nothing was trained."""
    if _is_series(model):
        from aekit.cli.series import fit_summary

        return fit_summary(model, n_rows)
    if _is_detector(model):
        members = model.estimators_
        if not members:
            return None
        first = members[0]
        epochs = ", ".join(str(m.history_.n_epochs) for m in members)
        seconds = sum(m.history_.fit_seconds for m in members)
        how = "interrupted after" if model.interrupted_ else "trained"
        return (
            f"{how} {len(members)} of {model.n_estimators} networks (epochs {epochs}): "
            f"AnomalyDetector of {first.kind} autoencoders (latent_dim={first.latent_dim}) on "
            f"{n_rows} samples ({model.max_samples_:,} rows each) in {seconds:.1f}s; "
            f"anomaly_score above {model.threshold_:.4g} "
            f"is an anomaly ({model.threshold_rule})",
            f"the detector so far ({len(members)} networks)",
        )
    history = model.history_
    if history.n_epochs == 0:
        return None
    best = history.best_epoch if history.best_epoch is not None else history.n_epochs - 1
    how = "interrupted after" if history.interrupted else "trained for"
    return (
        f"{how} {history.n_epochs} epochs: Autoencoder (kind={model.kind}, "
        f"latent_dim={model.latent_dim}) on {n_rows} samples in {history.fit_seconds:.1f}s; "
        f"best epoch {best + 1}, loss {history.monitored[best]:.4g}",
        f"the best model so far (epoch {best + 1})",
    )


def _save_fitted(model: Any, args: argparse.Namespace, n_rows: int, signum: int) -> int:
    """Save what ``fit`` trained and say so; the exit status (128 + signal if stopped)."""
    summary = _fit_summary(model, args, n_rows)
    if summary is None:
        print("aekit: interrupted before the first epoch finished; nothing saved", file=sys.stderr)
        return 128 + signum
    path = model.save(args.output)
    done, partial = summary
    print(done)
    if signum:
        resume = f"; continue with --resume {args.checkpoint}" if args.checkpoint else ""
        print(f"saved {partial} to {path}{resume}")
        return 128 + signum
    print(f"saved {path}")
    return 0


def _series_command(args: argparse.Namespace, command: str) -> bool:
    """Run ``command`` if MODEL is a series model file; whether it was one."""
    if not Path(args.model).is_file():
        return False
    model = _load(args.model)
    if not _is_series(model):
        return False
    from aekit.cli.series import SeriesCommandError, run_command

    try:
        run_command(args, model, command)
    except SeriesCommandError as error:
        raise UserError(str(error)) from None
    return True


def cmd_encode(args: argparse.Namespace) -> None:
    if _series_command(args, "encode"):
        return
    if _streams(args):
        model = _autoencoder(_checked_model(args), "encode")
        names = [str(n) for n in model.get_feature_names_out()]
        _stream(args, model, lambda frame: (names, model.transform(frame)), "encoding")
        return
    model, X = _model_and_data(args, "encode")
    codes = _in_chunks(model.transform, X, args.quiet, "encoding")
    _write(args.output, codes, columns=list(model.get_feature_names_out()))


def cmd_reconstruct(args: argparse.Namespace) -> None:
    if _series_command(args, "reconstruct"):
        return
    if _streams(args):
        model = _autoencoder(_checked_model(args), "reconstruct")
        _stream(
            args,
            model,
            lambda frame: ([str(c) for c in frame.columns], model.reconstruct(frame)),
            "reconstructing",
        )
        return
    model, X = _model_and_data(args, "reconstruct")
    _write(
        args.output,
        _in_chunks(model.reconstruct, X, args.quiet, "reconstructing"),
        columns=_columns(X),
    )  # a table model's reconstruction is a DataFrame with its own columns


def cmd_denoise(args: argparse.Namespace) -> None:
    if _series_command(args, "denoise"):
        return
    model, X = _model_and_data(args, "denoise")
    if model.noise is None:
        print(
            "warning: this model was trained without --noise; its output is a plain reconstruction",
            file=sys.stderr,
        )
    _write(args.output, _in_chunks(model.denoise, X, args.quiet, "denoising"), columns=_columns(X))


def _score_table(model: Any, X: Any) -> tuple[list[str], Any]:
    """The score columns for ``X`` (``aekit.estimators.scoring``) as names and a float32
    table (``is_anomaly`` as 0/1)."""
    import numpy as np

    from aekit.estimators.scoring import score_columns

    parts = score_columns(model, X)
    return list(parts), np.column_stack(list(parts.values())).astype(np.float32)


def cmd_score(args: argparse.Namespace) -> None:
    import numpy as np

    if _series_command(args, "score"):
        return

    if _streams(args):
        model = _checked_model(args)
        detector, flagged = _is_detector(model), [0]

        def score(frame: Any) -> tuple[list[str], Any]:
            columns, table = _score_table(model, frame)
            if detector:
                flagged[0] += int(table[:, columns.index("is_anomaly")].sum())
            keys = _keys(model, frame, args.output)
            return columns, table if keys is None else _with_keys(keys, columns, table)

        n = _stream(args, model, score, "scoring")
        if detector:
            print(f"{flagged[0]} of {n} samples flagged as anomalies")
        return
    model, X = _model_and_data(args)
    detector = _is_detector(model)
    names: list[str] = []

    def table_of(part: Any) -> Any:
        columns, table = _score_table(model, part)
        names[:] = columns
        return table

    values = list(_in_chunks(table_of, X, args.quiet, "scoring").T)
    columns = list(names)
    if detector:
        per_feature_of, prefix = model.relative_error, "relative_error"
    else:
        per_feature_of, prefix = model.reconstruction_error, "error"
    if args.explain:
        per_feature = _in_chunks(lambda part: per_feature_of(part, per_feature=True), X, True, "")
        per_feature = np.asarray(per_feature).reshape(len(per_feature), -1)
        names = _feature_names(model) or [f"x{i}" for i in range(per_feature.shape[1])]
        if len(names) != per_feature.shape[1]:
            names = [f"x{i}" for i in range(per_feature.shape[1])]
        columns += [f"{prefix}:{n}" for n in names]
        values += list(per_feature.T)
    table = np.column_stack(values).astype(np.float32)
    keys = _keys(model, X, args.output)
    if keys is None:
        _write(args.output, table, columns=columns)
    else:  # identifier columns first, so each score joins back to its row
        _write(args.output, _with_keys(keys, columns, table), columns=None)
    if detector:
        n_flagged = int(values[columns.index("is_anomaly")].sum())
        print(f"{n_flagged} of {len(table)} samples flagged as anomalies")


def cmd_generate(args: argparse.Namespace) -> None:
    model = _autoencoder(_load(args.model), "generate")
    if args.n_samples < 1:
        raise UserError(f"-n must be a positive number of samples, got {args.n_samples}")
    samples = model.sample(args.n_samples, random_state=args.seed)
    _write(args.output, samples, columns=_feature_names(model))


def cmd_info(args: argparse.Namespace) -> None:
    model = _load(args.model)
    summary: dict[str, Any] = {
        "file": str(args.model),
        "file_bytes": Path(args.model).stat().st_size,
        "estimator": type(model).__name__,
    }
    series = _is_series(model)
    if series:  # its own state, then its network's or its detector of windows'
        summary["series"] = {
            "window": model.window_,
            "window_rule": model.window,
            "channels": model.channels_,
            "time_column": model.time_column,
        }
        if _is_detector(model):
            summary["series"] |= {
                "scoring": model.scoring,
                "timestamps_seen": len(model.training_scores_),
                "calibration_blocks": model.calibration_blocks_,
            }
            summary["threshold"] = {
                "anomaly_score_above": model.threshold_,
                "rule": model.threshold_rule,
            }
        else:
            summary["series"]["center_windows"] = model.center_windows
        model = getattr(model, "detector_", None) or model.estimator_
    detector = _is_detector(model)
    if detector:
        summary["detector"] = {
            k: v for k, v in model.get_params(deep=False).items() if k != "estimator"
        }
        summary["members"] = len(model.estimators_)
        unit = "windows" if series else "rows"
        summary[f"{unit}_per_member"] = model.max_samples_
        summary[f"{unit}_seen"] = {
            "training": len(model.training_scores_) - len(model.calibration_scores_),
            "calibration": len(model.calibration_scores_),
        }
        if not series:
            summary["threshold"] = {
                "anomaly_score_above": model.threshold_,
                "rule": model.threshold_rule,
            }
    network = model.estimators_[0] if detector else model
    summary |= _network_summary(network)
    if detector:
        summary["training"]["epochs"] = [m.history_.n_epochs for m in model.estimators_]
        summary["training"]["seconds"] = round(
            sum(m.history_.fit_seconds for m in model.estimators_), 2
        )
    if args.json:
        print(json.dumps(summary, indent=2, default=str))
        return
    titles = ("series", "detector", "config", "training")
    sections = {k: summary.pop(k) for k in titles if k in summary}
    summary.pop("columns", None)
    for key, value in summary.items():
        print(f"{key:14s} {value}")
    for title, section in sections.items():
        print(title + (" (each member)" if detector and title == "config" else ""))
        for key, value in section.items():
            print(f"  {key:20s} {value}")
    if network.preprocessor_ is not None:
        print("columns")
        print("\n".join("  " + line for line in network.preprocessor_.roles_table().splitlines()))


def _network_summary(model: Any) -> dict[str, Any]:
    """What ``aekit info`` shows of an Autoencoder (or of a detector's first member)."""
    history = model.history_
    best = history.best_epoch if history.best_epoch is not None else history.n_epochs - 1
    summary: dict[str, Any] = {
        "kind": model.model_.kind,
        "config": model.model_.config.to_json(),
        "parameters": sum(p.numel() for p in model.model_.parameters()),
        "sample_shape": list(model.sample_shape_),
        "scaling": model.scaler_.method,
        "training": {
            "epochs": history.n_epochs,
            "best_epoch": best + 1 if history.n_epochs else None,
            "stopped_early": history.stopped_early,
            "train_loss": history.train_loss[best] if history.n_epochs else None,
            "val_loss": history.val_loss[best] if history.val_loss else None,
            "seconds": round(history.fit_seconds, 2),
        },
    }
    if model.preprocessor_ is not None:
        summary["scaling"] = (
            "table: robust numbers, one-hot categories (rare levels hashed, unseen flagged), "
            "missing indicators"
        )
        summary["columns"] = model.preprocessor_.describe_columns()
    return summary


def _keys(model: Any, X: Any, output: str) -> Any:
    """The identifier columns of ``X`` that ``aekit score`` carries into a table output,
    so each score joins back to its row (None when there are none to carry)."""
    from aekit.estimators.scoring import identifier_columns

    return identifier_columns(model, X) if _writes_table(output) else None


def _with_keys(keys: Any, columns: list[str], values: Any) -> Any:
    """A DataFrame of the identifier columns, then the score columns."""
    import pandas as pd

    scores = pd.DataFrame(values, columns=columns)
    return pd.concat([keys.reset_index(drop=True), scores], axis=1)


def cmd_report(args: argparse.Namespace) -> None:
    import numpy as np

    from aekit.data.files import check_writable, read_data
    from aekit.reporting import write_report

    check_writable(args.output)
    model, X = _load(args.model), read_data(args.data, key=args.key, options=_read_options(args))
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
    X_train = (
        read_data(args.train, key=args.key, options=_read_options(args)) if args.train else None
    )
    path = write_report(model, X, args.output, labels=labels, X_train=X_train)
    print(f"wrote {path}")


def cmd_export(args: argparse.Namespace) -> None:
    from aekit.data.files import check_writable
    from aekit.export import signature, to_onnx

    check_writable(args.output)
    path = to_onnx(_load(args.model), args.output)
    inputs, outputs = signature(path)
    print(f"wrote {path}: inputs {', '.join(inputs)}; outputs {', '.join(outputs)}")


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
    "export": cmd_export,
    "report": cmd_report,
    "demo": cmd_demo,
}


# --- helpers --------------------------------------------------------------------------


def _load(path: str) -> Any:
    from aekit import load

    return load(path)


def _model_and_data(args: argparse.Namespace, command: str | None = None) -> tuple[Any, Any]:
    """The model (an Autoencoder when ``command`` needs one) and the data."""
    from aekit.data.files import check_writable, read_data

    check_writable(args.output, folder=Path(args.output).suffix == "")
    model = _load(args.model)
    if command is not None:
        _autoencoder(model, command)
    return model, read_data(args.data, key=args.key, options=_read_options(args))


def _is_series(model: Any) -> bool:
    return type(model).__name__ in ("TimeSeriesDetector", "TimeSeriesAutoencoder")


def _is_detector(model: Any) -> bool:
    from sklearn.base import is_outlier_detector

    return bool(is_outlier_detector(model))


def _autoencoder(model: Any, command: str) -> Any:
    """``model``, which must be an Autoencoder for ``command``."""
    if _is_detector(model):
        raise UserError(
            f"'aekit {command}' needs an Autoencoder, but this file holds an AnomalyDetector; "
            f"save one of its members (detector.estimators_[i].save(path)) to {command} with it"
        )
    return model


def _streams(args: argparse.Namespace) -> bool:
    """Whether input and output are tables to stream in chunks (Parquet, CSV, JSON Lines
    in; Parquet or CSV out)."""
    from aekit.data.files import CSV_SUFFIXES, JSON_LINES_SUFFIXES
    from aekit.data.loaders import is_table_path

    streamable = CSV_SUFFIXES + JSON_LINES_SUFFIXES
    source = is_table_path(args.data) or Path(args.data).suffix.lower() in streamable
    plain = args.key is None and not getattr(args, "explain", False)  # --explain: in memory
    return source and _writes_table(args.output) and plain


def _writes_table(output: str) -> bool:
    """Whether ``output`` names a table file (``.csv`` or ``.parquet``): one with named,
    typed columns, so it can be streamed into and carry identifier columns."""
    return Path(output).suffix.lower() in TABLE_OUTPUTS


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
    table = model.preprocessor_
    if table is not None:  # categories, booleans, dates and keys stay text; numbers float64
        columns = [n for n, kind in table.kinds_.items() if kind == "numeric"]
        text = [n for n, kind in table.kinds_.items() if kind != "numeric"]
        text += table.identifiers_
    n = map_table(
        args.data,
        args.output,
        fn,
        columns=columns,
        text_columns=text,
        options=_read_options(args),
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
    previous = None
    if args.threads is not None:  # threads imports torch: only when asked, so that an
        from aekit.training.threads import set_threads  # error found first is instant

        previous = set_threads(args.threads)
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            status = COMMANDS[args.command](args) or 0
    except KeyboardInterrupt:
        print("aekit: interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        if args.debug or not _is_user_error(error):
            raise
        print(f"aekit: error: {_one_line(error)}", file=sys.stderr)
        return 1
    finally:
        if args.threads is not None:
            set_threads(previous)
    return status


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return value


def _show_warning(message: Warning | str, category: type[Warning], *args: Any, **kw: Any) -> None:
    """A warning as one line a user reads, not a source location."""
    print(f"aekit: warning: {' '.join(str(message).split())}", file=sys.stderr)


def _is_user_error(error: Exception) -> bool:
    from aekit.exceptions import AekitError

    user_errors: tuple[type[Exception], ...] = (
        UserError,
        AekitError,
        ValueError,
        FileNotFoundError,
        PermissionError,
        IsADirectoryError,
        NotADirectoryError,
    )
    if "sklearn" in sys.modules:  # a NotFittedError needs scikit-learn loaded; not before
        from sklearn.exceptions import NotFittedError

        user_errors += (NotFittedError,)
    return isinstance(error, user_errors)


def _one_line(error: Exception) -> str:
    text = str(error) or type(error).__name__
    if isinstance(error, FileNotFoundError) and error.filename:
        text = f"{error.filename}: {error.strerror}" if error.strerror else text
    return " ".join(text.split())
