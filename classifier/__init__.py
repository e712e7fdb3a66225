"""Support request classifier: category (section 3), clause, scope and criticality (2.2)."""

from classifier.data import Example, load_jsonl, load_training
from classifier.errors import DataError, ModelError, ModelMismatchError, ModelNotFoundError
from classifier.model import Classifier, Prediction, default_model_dir
from classifier.scope import CATEGORIES, ScopeItem, load_scope

__all__ = [
    "CATEGORIES",
    "Classifier",
    "DataError",
    "Example",
    "ModelError",
    "ModelMismatchError",
    "ModelNotFoundError",
    "Prediction",
    "ScopeItem",
    "default_model_dir",
    "load_jsonl",
    "load_scope",
    "load_training",
]
