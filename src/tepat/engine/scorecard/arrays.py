"""Small column helpers shared by scoring, ranking and the extract reader."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def encode(column: pa.ChunkedArray | pa.Array | Sequence[Any]) -> tuple[np.ndarray, list[Any]]:
    """(int64 code per row, the distinct values); an empty cell is a value of its own (None)."""
    array = column if isinstance(column, pa.Array | pa.ChunkedArray) else pa.array(column)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    encoded = pc.dictionary_encode(array, null_encoding="encode")
    return encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64), encoded.dictionary.to_pylist()
