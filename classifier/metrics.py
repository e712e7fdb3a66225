"""Evaluation figures for labelled requests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, classification_report, confusion_matrix, f1_score

from classifier.data import Example
from classifier.model import Classifier, Prediction


@dataclass(frozen=True, slots=True)
class Report:
    """What `python -m classifier eval` prints."""

    n: int
    accuracy: float
    macro_f1: float
    scope_accuracy: float
    critical_recall: float
    critical_precision: float
    unsure_rate: float
    per_class: str
    labels: tuple[str, ...]
    confusion: np.ndarray

    def text(self) -> str:
        """Human-readable summary."""
        return "\n".join(
            [
                f"examples            {self.n}",
                f"category accuracy   {self.accuracy:.3f}",
                f"category macro-F1   {self.macro_f1:.3f}",
                f"scope accuracy      {self.scope_accuracy:.3f}",
                f"critical recall     {self.critical_recall:.3f}",
                f"critical precision  {self.critical_precision:.3f}",
                f"unsure rate         {self.unsure_rate:.3f}",
                "",
                self.per_class,
            ]
        )


def _ratio(num: int, den: int) -> float:
    return num / den if den else 1.0


def evaluate(model: Classifier, examples: Sequence[Example]) -> Report:
    """Score the model's predictions against the labels."""
    preds: list[Prediction] = model.predict_many([ex.text for ex in examples])
    y_true = [ex.category for ex in examples]
    y_pred = [p.category for p in preds]
    labels = tuple(model.categories)
    tp = sum(ex.critical and p.critical for ex, p in zip(examples, preds, strict=True))
    return Report(
        n=len(examples),
        accuracy=float(accuracy_score(y_true, y_pred)),
        macro_f1=float(f1_score(y_true, y_pred, labels=list(labels), average="macro")),
        scope_accuracy=_ratio(
            sum(ex.in_scope == p.in_scope for ex, p in zip(examples, preds, strict=True)),
            len(examples),
        ),
        critical_recall=_ratio(tp, sum(ex.critical for ex in examples)),
        critical_precision=_ratio(tp, sum(p.critical for p in preds)),
        unsure_rate=_ratio(sum(p.unsure for p in preds), len(examples)),
        per_class=str(
            classification_report(y_true, y_pred, labels=list(labels), digits=3, zero_division=0.0)
        ),
        labels=labels,
        confusion=confusion_matrix(y_true, y_pred, labels=list(labels)),
    )


def plot_confusion(report: Report, path: Path) -> Path | None:
    """Write the confusion matrix as a PNG; None when matplotlib is not installed."""
    try:
        import matplotlib  # noqa: PLC0415 - optional dependency, imported lazily

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # noqa: PLC0415
    except ImportError:
        return None
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    ax.imshow(report.confusion, cmap="Blues")
    ax.set_xticks(range(len(report.labels)), report.labels, rotation=45, ha="right")
    ax.set_yticks(range(len(report.labels)), report.labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    limit = report.confusion.max() / 2 if report.confusion.size else 0
    for (i, j), value in np.ndenumerate(report.confusion):
        ax.text(
            j, i, str(value), ha="center", va="center", color="white" if value > limit else "black"
        )
    ax.set_title(f"category confusion (n={report.n}, macro-F1 {report.macro_f1:.3f})")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
