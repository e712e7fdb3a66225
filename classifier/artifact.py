"""Read the classifier's skops artifact without importing skops (which imports scikit-learn).

`Classifier.save` writes the plain state with `skops.io.dumps` (training needs scikit-learn
anyway). At run time only that state is needed: a dict with str keys holding strings, lists of
strings and numpy arrays. This reader understands exactly those nodes of the skops format (a zip
of `schema.json` and `.npy` files) and refuses anything else; arrays are read with
`allow_pickle=False`, so nothing is ever unpickled. It keeps the bot process free of scikit-learn
and SciPy (about 90 MB and a second of start-up).

An artifact of another skops protocol returns `None`: the caller then loads it with skops itself.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import numpy as np

PROTOCOL = 2  # the skops format version this reader understands
_PRIMITIVES = frozenset({"str", "int", "float", "bool"})


class ForeignNode(ValueError):
    """The artifact holds something other than plain containers, strings and numpy arrays."""


def read_state(payload: bytes) -> dict[str, Any] | None:
    """The state dictionary in a skops `payload`; None for an unknown protocol."""
    with zipfile.ZipFile(io.BytesIO(payload)) as archive:
        schema = json.loads(archive.read("schema.json"))
        if not isinstance(schema, dict) or schema.get("protocol") != PROTOCOL:
            return None
        state = _node(schema, archive)
    if not isinstance(state, dict):
        raise ForeignNode(f"the artifact holds a {type(state).__name__}, not a dictionary")
    return state


def _kind(node: Any) -> tuple[str, str, str]:
    if not isinstance(node, dict):
        raise ForeignNode(f"malformed node {node!r:.80}")
    return str(node.get("__loader__")), str(node.get("__module__")), str(node.get("__class__"))


def _node(node: Any, archive: zipfile.ZipFile) -> Any:
    loader, module, cls = _kind(node)
    if (loader, module, cls) == ("DictNode", "builtins", "dict"):
        key_types = node["key_types"]
        if _kind(key_types) != ("ListNode", "builtins", "list") or any(
            _kind(k) != ("TypeNode", "builtins", "str") for k in key_types["content"]
        ):
            raise ForeignNode("dictionary keys other than strings")
        return {str(k): _node(v, archive) for k, v in node["content"].items()}
    if (loader, module, cls) == ("ListNode", "builtins", "list"):
        return [_node(item, archive) for item in node["content"]]
    if loader == "JsonNode" and module == "builtins" and cls in _PRIMITIVES:
        return json.loads(node["content"])
    if (loader, module, cls, node.get("type")) == ("NdArrayNode", "numpy", "ndarray", "numpy"):
        return np.load(io.BytesIO(archive.read(node["file"])), allow_pickle=False)
    raise ForeignNode(f"{module}.{cls}")
