"""Exceptions of the classifier package.

ModelError (RuntimeError)
├── ModelNotFoundError (FileNotFoundError too): no artifact or metadata in the model dir
└── ModelMismatchError: the artifact was built by another scikit-learn, format or data
"""

from __future__ import annotations


class ModelError(RuntimeError):
    """A persisted model cannot be used; `Classifier.train` or `load_or_train` rebuilds it."""


class ModelNotFoundError(ModelError, FileNotFoundError):
    """The model directory has no artifact or no metadata file."""


class ModelMismatchError(ModelError):
    """The metadata does not match this code, this scikit-learn or the current training data."""


class DataError(ValueError):
    """Scope items, training phrases or an evaluation file are malformed."""
