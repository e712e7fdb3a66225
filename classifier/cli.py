"""`python -m classifier train | eval --data FILE.jsonl | predict`."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from classifier.data import load_jsonl
from classifier.errors import DataError, ModelError
from classifier.metrics import evaluate, plot_confusion, plot_reliability
from classifier.model import Classifier, default_model_dir


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m classifier", description=__doc__)
    parser.add_argument(
        "--model-dir",
        type=Path,
        default=None,
        help="model directory (default: $FRONTDESK_MODEL_DIR or classifier/model)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="data directory with scope.json and training/ (default: data/)",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("train", help="train on data/training and save the model")
    ev = sub.add_parser("eval", help="score the model on a labelled JSON-lines file")
    ev.add_argument(
        "--data",
        type=Path,
        required=True,
        help="JSON lines with text, category, in_scope, critical",
    )
    ev.add_argument(
        "--plot",
        type=Path,
        default=None,
        help="confusion matrix PNG (default: <model dir>/confusion.png)",
    )
    sub.add_parser("predict", help='JSON lines {"text": ...} on stdin, predictions on stdout')
    return parser


def _train(args: argparse.Namespace, out: TextIO) -> int:
    started = time.perf_counter()
    model_dir = args.model_dir or default_model_dir()

    def progress(step: str) -> None:
        out.write(f"[{time.perf_counter() - started:5.1f} s] {step}\n")
        out.flush()

    model = Classifier.train(data_dir=args.data_dir, model_dir=model_dir, progress=progress)
    out.write(
        f"trained on {model.metadata['n_examples']} rows in "
        f"{time.perf_counter() - started:.2f} s; saved to {model_dir}\n"
    )
    return 0


def _eval(args: argparse.Namespace, out: TextIO) -> int:
    model_dir = args.model_dir or default_model_dir()
    model = Classifier.load_or_train(model_dir, args.data_dir)
    report = evaluate(model, load_jsonl(args.data))
    out.write(report.text() + "\n")
    confusion = args.plot or model_dir / "confusion.png"
    written = plot_confusion(report, confusion)
    if written is None:
        out.write("confusion matrix: matplotlib is not installed (pip install matplotlib)\n")
        return 0
    out.write(f"confusion matrix: {written}\n")
    diagram = plot_reliability(report, confusion.with_name("reliability.png"))
    out.write(f"reliability diagram: {diagram}\n")
    return 0


def _predict(args: argparse.Namespace, stdin: TextIO, out: TextIO) -> int:
    model = Classifier.load_or_train(args.model_dir, args.data_dir)
    for line in stdin:
        if not line.strip():
            continue
        error = None
        try:
            obj = json.loads(line)
            text = obj.get("text") if isinstance(obj, dict) else None
            if not isinstance(text, str):
                error, text = 'expected {"text": "..."}', ""
        except ValueError as exc:
            error, text = f"invalid JSON: {exc}", ""
        result = model.predict(text).to_json()
        if error:
            result["error"] = error
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
        out.flush()
    return 0


def main(
    argv: Sequence[str] | None = None, stdin: TextIO | None = None, stdout: TextIO | None = None
) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    out = stdout or sys.stdout
    try:
        if args.command == "train":
            return _train(args, out)
        if args.command == "eval":
            return _eval(args, out)
        return _predict(args, stdin or sys.stdin, out)
    except (ModelError, DataError, OSError) as exc:
        sys.stderr.write(f"classifier: {exc}\n")
        return 2
