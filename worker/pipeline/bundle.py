"""Frozen dataclasses of arrays and numbers (fitted models, per-shard results) as flat arrays.

`pack` turns one into `{"prefix.field": array}` entries that an npz artifact can hold without
pickling; `unpack` rebuilds it. Field values may be numpy arrays, numbers, booleans, strings,
tuples of those, or scipy CSR matrices.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from typing import Any, TypeVar

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

T = TypeVar("T")
Arrays = dict[str, NDArray[Any]]

_PRESENT = "present"


def pack(obj: Any, prefix: str) -> Arrays:
    """The dataclass instance's fields as arrays under `prefix.`."""
    if not is_dataclass(obj) or isinstance(obj, type):
        raise TypeError(f"expected a dataclass instance, not {type(obj).__name__}")
    out: Arrays = {f"{prefix}.{_PRESENT}": np.array(True)}
    for field in fields(obj):
        key = f"{prefix}.{field.name}"
        value = getattr(obj, field.name)
        if isinstance(value, sp.csr_matrix):
            out[f"{key}.csr.data"] = value.data
            out[f"{key}.csr.indices"] = value.indices
            out[f"{key}.csr.indptr"] = value.indptr
            out[f"{key}.csr.shape"] = np.array(value.shape, dtype=np.int64)
        elif isinstance(value, tuple):
            out[f"{key}.len"] = np.array(len(value))
            for i, item in enumerate(value):
                out[f"{key}.{i}"] = np.asarray(item)
        else:
            out[key] = np.asarray(value)
    return out


def has(arrays: Mapping[str, NDArray[Any]], prefix: str) -> bool:
    """Whether an instance was packed under the prefix."""
    return f"{prefix}.{_PRESENT}" in arrays


def unpack(cls: type[T], arrays: Mapping[str, NDArray[Any]], prefix: str) -> T:
    """The instance of `cls` packed under the prefix."""
    if not has(arrays, prefix):
        raise KeyError(f"nothing packed under {prefix!r}")
    values: dict[str, Any] = {}
    for field in fields(cls):  # type: ignore[arg-type]
        key = f"{prefix}.{field.name}"
        if f"{key}.csr.data" in arrays:
            shape = tuple(int(size) for size in arrays[f"{key}.csr.shape"])
            values[field.name] = sp.csr_matrix(
                (
                    arrays[f"{key}.csr.data"],
                    arrays[f"{key}.csr.indices"],
                    arrays[f"{key}.csr.indptr"],
                ),
                shape=shape,
            )
        elif f"{key}.len" in arrays:
            count = int(arrays[f"{key}.len"])
            values[field.name] = tuple(_value(arrays[f"{key}.{i}"]) for i in range(count))
        else:
            values[field.name] = _value(arrays[key])
    return cls(**values)


def _value(array: NDArray[Any]) -> Any:
    """0-d arrays back to Python scalars; other arrays as they are."""
    return array.item() if array.ndim == 0 else array
