"""Evaluation figures for labelled requests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, classification_report, confusion_matrix, f1_score

from classifier.data import Example
from classifier.model import OUT_OF_SCOPE_OPERATING_POINT, Classifier, Prediction

CALIBRATION_BINS = 10


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
    # Figures that need the labels of real requests; None when the file has no such column.
    acceptable_accuracy: float | None = None
    scope_agreed_accuracy: float | None = None
    scope_agreed_n: int = 0
    out_of_scope_said: int = 0  # told "out of scope" at the operating point
    out_of_scope_precision: float | None = None
    critical_any_recall: float | None = None
    calibration_error: float = 0.0  # expected calibration error of the category confidence
    reliability: tuple[tuple[float, float, int], ...] = ()  # (confidence, accuracy, n) per bin

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
                f"calibration error   {self.calibration_error:.3f} (ECE, category confidence)",
                *self._real_request_lines(),
                "",
                self.per_class,
            ]
        )

    def _real_request_lines(self) -> list[str]:
        lines = []
        if self.acceptable_accuracy is not None:
            lines.append(f"acceptable category {self.acceptable_accuracy:.3f}")
        if self.scope_agreed_accuracy is not None:
            lines.append(
                f"scope, agreed rows  {self.scope_agreed_accuracy:.3f} (n={self.scope_agreed_n})"
            )
        precision = (
            "—" if self.out_of_scope_precision is None else (f"{self.out_of_scope_precision:.3f}")
        )
        lines.append(
            f"out-of-scope said   {self.out_of_scope_said}, precision {precision} "
            f"(at P(out) >= {OUT_OF_SCOPE_OPERATING_POINT})"
        )
        if self.critical_any_recall is not None:
            lines.append(f"critical_any recall {self.critical_any_recall:.3f}")
        return lines


def _ratio(num: int, den: int) -> float:
    return num / den if den else 1.0


def evaluate(model: Classifier, examples: Sequence[Example]) -> Report:
    """Score the model's predictions against the labels."""
    preds: list[Prediction] = model.predict_many([ex.text for ex in examples])
    y_true = [ex.category for ex in examples]
    y_pred = [p.category for p in preds]
    labels = tuple(model.categories)
    pairs = list(zip(examples, preds, strict=True))
    tp = sum(ex.critical and p.critical for ex, p in pairs)
    reliability = _reliability(pairs)
    return Report(
        n=len(examples),
        accuracy=float(accuracy_score(y_true, y_pred)),
        macro_f1=float(
            f1_score(y_true, y_pred, labels=list(labels), average="macro", zero_division=0.0)
        ),
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
        **asdict(_real_request_figures(pairs)),
        calibration_error=sum(abs(conf - acc) * n for conf, acc, n in reliability) / len(pairs)
        if pairs
        else 0.0,
        reliability=reliability,
    )


@dataclass(frozen=True, slots=True)
class RealRequestFigures:
    acceptable_accuracy: float | None = None
    scope_agreed_accuracy: float | None = None
    scope_agreed_n: int = 0
    out_of_scope_said: int = 0
    out_of_scope_precision: float | None = None
    critical_any_recall: float | None = None


def _share(hits: int, n: int) -> float | None:
    return hits / n if n else None


def _real_request_figures(pairs: list[tuple[Example, Prediction]]) -> RealRequestFigures:
    """Acceptable category, scope on the rows both leads agreed on, what "out of scope" said at
    the operating point is worth, and critical recall on rows either lead marked critical."""
    labelled = [(ex, p) for ex, p in pairs if ex.acceptable]
    agreed = [(ex, p) for ex, p in pairs if ex.scope_agreed]
    said = [(ex, p) for ex, p in pairs if p.surely_out_of_scope]
    marked = [(ex, p) for ex, p in pairs if ex.critical_any]
    has_critical_any = any(ex.critical_any is not None for ex, _ in pairs)
    return RealRequestFigures(
        acceptable_accuracy=_share(sum(p.category in ex.acceptable for ex, p in labelled),
                                   len(labelled)),
        scope_agreed_accuracy=_share(sum(ex.in_scope == p.in_scope for ex, p in agreed),
                                     len(agreed)),
        scope_agreed_n=len(agreed),
        out_of_scope_said=len(said),
        out_of_scope_precision=_share(sum(not ex.in_scope for ex, _ in said), len(said)),
        critical_any_recall=_share(sum(p.critical for _, p in marked), len(marked))
        if has_critical_any
        else None,
    )  # fmt: skip


def _reliability(pairs: list[tuple[Example, Prediction]]) -> tuple[tuple[float, float, int], ...]:
    """Per confidence bin: the mean confidence, the share of right categories, the count."""
    bins: list[list[tuple[float, bool]]] = [[] for _ in range(CALIBRATION_BINS)]
    for ex, p in pairs:
        index = min(int(p.confidence * CALIBRATION_BINS), CALIBRATION_BINS - 1)
        right = p.category in ex.acceptable if ex.acceptable else p.category == ex.category
        bins[index].append((p.confidence, right))
    return tuple(
        (float(np.mean([c for c, _ in b])), float(np.mean([r for _, r in b])), len(b))
        for b in bins
        if b
    )


def plot_reliability(report: Report, path: Path) -> Path | None:
    """Write the reliability diagram (confidence against accuracy) as a PNG; None without
    matplotlib."""
    try:
        import matplotlib  # noqa: PLC0415 - optional dependency, imported lazily

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # noqa: PLC0415
    except ImportError:
        return None
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfectly calibrated")
    confidences = [c for c, _, _ in report.reliability]
    accuracies = [a for _, a, _ in report.reliability]
    sizes = [20 + 8 * n for _, _, n in report.reliability]
    ax.scatter(confidences, accuracies, s=sizes, label="bins (size: requests)")
    ax.plot(confidences, accuracies)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("category confidence")
    ax.set_ylabel("share right")
    ax.set_title(f"reliability (n={report.n}, ECE {report.calibration_error:.3f})")
    ax.legend(loc="upper left")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


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
