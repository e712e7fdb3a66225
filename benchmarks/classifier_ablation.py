"""Which features and which training data: `python benchmarks/classifier_ablation.py [--cv]`.

Trains the classifier with each feature set (TF-IDF alone, with lemmas, with pretrained word
vectors, both) on each training set (the hand-written phrases, the rows modelled on real
questions, both) and prints, per row of the table:
- on the labelled real questions (`../shared/eval/real_dev.jsonl`, measured in place, never
  trained on): acceptable and exact category, scope on the rows both leads agreed on, how many
  requests are told "out of scope" at the operating point and how often rightly, critical recall
  on rows either lead marked critical;
- with `--cv`: 5-fold cross-validation over our own real-request rows, grouped by where each
  question was published (a repository's issues are all in one fold, so a fold's questions come
  from places the model has not seen), each fold trained on the phrases and the other folds:
  acceptable category and scope on clear-cut rows;
- the dev set's macro-F1 and the holdout's scope accuracy (the earlier targets).

Then, for the chosen design, the out-of-scope precision at each threshold: where the operating
point can sit; with `--cv` also the hand-written phrases cross-validated in five folds (each
fold trained on the other phrases and every real row): the category macro-F1 and the scope
accuracy on text written like the dev and holdout sets.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from classifier.data import Example, load_jsonl, load_training  # noqa: E402
from classifier.features import FeatureOptions  # noqa: E402
from classifier.metrics import evaluate  # noqa: E402
from classifier.model import DEFAULT_FEATURES, Classifier  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
REAL_DEV = ROOT.parent / "shared" / "eval" / "real_dev.jsonl"
FEATURES = {
    "tf-idf": FeatureOptions(),
    "+lemmas": FeatureOptions(lemmas=True),
    "+vectors": FeatureOptions(vector_weight=1.0),
    "+lemmas+vectors": FeatureOptions(lemmas=True, vector_weight=1.0),
}
THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98)


def publisher(source: str) -> str:
    """Where a question was published: the repository for GitHub, else the site."""
    parts = source.split()[0].split("/")
    return "/".join(parts[2:5]) if parts[2:3] == ["github.com"] else "/".join(parts[2:3])


def _cross_validated(
    phrases: list[Example], real: list[Example], options: FeatureOptions
) -> tuple[float, float]:
    from sklearn.model_selection import GroupKFold

    groups = [publisher(ex.source or "") for ex in real]
    accepted, scoped = [], []
    for train, test in GroupKFold(5).split(real, groups=groups):
        model = Classifier.fit(phrases + [real[i] for i in train], options=options)
        preds = model.predict_many([real[i].text for i in test])
        rows = [real[i] for i in test]
        accepted += [p.category in ex.acceptable for ex, p in zip(rows, preds, strict=True)]
        scoped += [
            p.in_scope == ex.in_scope for ex, p in zip(rows, preds, strict=True) if ex.scope_agreed
        ]
    return float(np.mean(accepted)), float(np.mean(scoped))


def _phrases_cross_validated(
    phrases: list[Example], real: list[Example], options: FeatureOptions
) -> tuple[float, float]:
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold

    truth, said, scoped = [], [], []
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    for train, test in folds.split(phrases, [ex.category for ex in phrases]):
        model = Classifier.fit([phrases[i] for i in train] + real, options=options)
        for i in test:
            pred = model.predict(phrases[i].text)
            truth.append(phrases[i].category)
            said.append(pred.category)
            scoped.append(pred.in_scope == phrases[i].in_scope)
    return float(f1_score(truth, said, average="macro")), float(np.mean(scoped))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cv", action="store_true", help="also cross-validate (slower)")
    parser.add_argument("--features", nargs="*", default=list(FEATURES), choices=list(FEATURES))
    args = parser.parse_args()

    everything = load_training()
    phrases = [ex for ex in everything if ex.source is None]
    real = [ex for ex in everything if ex.source is not None]
    real_dev = load_jsonl(REAL_DEV)
    dev, holdout = (load_jsonl(ROOT / "data" / f"{n}.jsonl") for n in ("dev", "holdout"))
    print(f"training rows: {len(phrases)} hand-written phrases, {len(real)} real-request rows")
    print(f"evaluation: {len(real_dev)} real questions ({REAL_DEV.name})\n")
    header = (
        f"{'data':<16}{'features':<17}{'accept':>7}{'exact':>7}{'scope':>7}{'OOS said':>9}"
        f"{'prec':>6}{'crit':>6}{'ECE':>6} | {'CV acc':>6}{'CV scp':>7} | {'devF1':>6}"
        f"{'hScope':>7}{'fit s':>6}"
    )
    print(header)
    print("-" * len(header))
    for data_name, train in (
        ("phrases", phrases),
        ("real", real),
        ("phrases+real", everything),
    ):
        for name in args.features:
            options = FEATURES[name]
            started = time.perf_counter()
            model = Classifier.fit(train, options=options)
            seconds = time.perf_counter() - started
            r, d, h = (evaluate(model, rows) for rows in (real_dev, dev, holdout))
            cv = (
                _cross_validated(phrases if data_name != "real" else [], real, options)
                if args.cv and data_name != "phrases"
                else (float("nan"), float("nan"))
            )
            precision = r.out_of_scope_precision
            print(
                f"{data_name:<16}{name:<17}{r.acceptable_accuracy:>7.3f}{r.accuracy:>7.3f}"
                f"{r.scope_agreed_accuracy:>7.3f}{r.out_of_scope_said:>9}"
                f"{precision if precision is not None else float('nan'):>6.2f}"
                f"{r.critical_any_recall:>6.2f}{r.calibration_error:>6.3f} | "
                f"{cv[0]:>6.3f}{cv[1]:>7.3f} | {d.macro_f1:>6.3f}{h.scope_accuracy:>7.3f}"
                f"{seconds:>6.1f}",
                flush=True,
            )

    if args.cv:
        f1, scope = _phrases_cross_validated(phrases, real, DEFAULT_FEATURES)
        print(f"\nchosen design, phrases in 5 folds: macro-F1 {f1:.3f}, scope {scope:.3f}")
    model = Classifier.fit(everything, options=DEFAULT_FEATURES)
    print(f"\nchosen design ({DEFAULT_FEATURES}) on phrases+real: out of scope by threshold")
    preds = model.predict_many([ex.text for ex in real_dev])
    for threshold in THRESHOLDS:
        said = [
            ex
            for ex, p in zip(real_dev, preds, strict=True)
            if not p.in_scope and p.scope_confidence >= threshold
        ]
        right = sum(not ex.in_scope for ex in said)
        share = f"{right / len(said):.2f}" if said else "—"
        print(
            f"  P(out) >= {threshold:.2f}: said {len(said):>3}, right {right:>3}, "
            f"precision {share}"
        )


if __name__ == "__main__":
    main()
