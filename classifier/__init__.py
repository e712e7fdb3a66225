"""Support request classifier: category (section 3), clause, scope and criticality (2.2).

Besides the model, the text features are public (`char_wb_ngrams`, `sublinear_unit_vector`): the
character n-grams the classifier is trained on, for callers that compare texts without a model
(the bot's knowledge base and its check for an already filed problem).
"""

from classifier.data import Example, load_jsonl, load_training
from classifier.errors import DataError, ModelError, ModelMismatchError, ModelNotFoundError
from classifier.features import char_wb_ngrams, sublinear_unit_vector
from classifier.model import (
    OUT_OF_SCOPE_OPERATING_POINT,
    Classifier,
    Prediction,
    default_model_dir,
)
from classifier.scope import CATEGORIES, Category, ScopeItem, load_categories, load_scope

__all__ = [
    "OUT_OF_SCOPE_OPERATING_POINT",
    "CATEGORIES",
    "Category",
    "Classifier",
    "DataError",
    "Example",
    "ModelError",
    "ModelMismatchError",
    "ModelNotFoundError",
    "Prediction",
    "ScopeItem",
    "char_wb_ngrams",
    "default_model_dir",
    "load_categories",
    "load_jsonl",
    "load_scope",
    "load_training",
    "sublinear_unit_vector",
]
