"""copy.deepcopy support for objects that key dicts and sets by id(): after the default
field-by-field copy, each id is moved to the id of the object's copy (copy.deepcopy's memo maps
id(original) -> copy), so the copy stays consistent with its own objects."""

from __future__ import annotations

import copy
from typing import Any


def deepcopy_fields(obj: Any, memo: dict) -> Any:
    """What copy.deepcopy does by default for a plain object: a new instance of the same class
    whose __dict__ is a deep copy of obj's (registered in memo first, for cycles)."""
    cls = type(obj)
    new = cls.__new__(cls)
    memo[id(obj)] = new
    for k, v in obj.__dict__.items():
        new.__dict__[k] = copy.deepcopy(v, memo)
    return new


def remap_id(key: int, memo: dict) -> int:
    """id of the copy of the object whose id was `key` (unchanged when it was not copied)."""
    return id(memo[key]) if key in memo else key


def remap_ids(ids: Any, memo: dict) -> Any:
    """A set of ids, or a dict keyed by ids, moved to the ids of the copies."""
    if isinstance(ids, dict):
        return {remap_id(k, memo): v for k, v in ids.items()}
    return {remap_id(k, memo) for k in ids}
