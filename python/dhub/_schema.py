# SPDX-License-Identifier: Apache-2.0
"""From a typed schema document (docs/schemas.md) to the numpy dtype and shape of one slot.

The document is what a channel's segment stores, what a kernel hands a plugin (port_schema_document) and
what a graph declares. Defaults are filled in here the way the C++ reader fills them (offsets packed as a C
compiler would, size rounded up to the alignment), so a document written by hand works as well as a
canonical one.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping, Optional, Tuple, Union

import numpy as np

__all__ = ["SlotLayout", "layout_of", "view_of"]


@dataclass(frozen=True)
class SlotLayout:
    """How one slot is seen from numpy: an array of ``dtype`` with ``shape`` over the first ``size`` bytes.

    ``schema_id`` is ``"name@version"``, or ``None`` for a channel without a typed schema (then the slot is
    its committed bytes as ``uint8``: ``dtype`` is ``uint8`` and ``shape`` is ``None``).
    """

    schema_id: Optional[str]
    encoding: str
    dtype: np.dtype
    shape: Optional[Tuple[int, ...]]
    size: int


BYTES_LAYOUT = SlotLayout(None, "bytes", np.dtype(np.uint8), None, 0)


def _alignment(dtype: np.dtype) -> int:
    # The rule of docs/schemas.md: a number's size (a complex's component size), 1 for bool, bytes and raw.
    if dtype.kind in "iuf":
        return dtype.itemsize
    if dtype.kind == "c":
        return dtype.itemsize // 2
    return 1


def _round_up(value: int, alignment: int) -> int:
    return (value + alignment - 1) // alignment * alignment


def layout_of(document: Union[None, str, bytes, Mapping[str, Any]]) -> SlotLayout:
    """The numpy layout of the slots a schema document describes.

    ``None`` or ``""`` (no typed schema), encoding ``bytes`` and ``external`` give the untyped layout.
    Raises ``ValueError`` naming the field for a document numpy cannot represent.
    """
    if document is None or document == "" or document == b"":
        return BYTES_LAYOUT
    if isinstance(document, (str, bytes)):
        document = json.loads(document)
    schema_id = f"{document.get('name', '?')}@{document.get('version', '?')}"
    encoding = document.get("encoding", "struct")
    if encoding not in ("struct", "ndarray"):
        return SlotLayout(schema_id, encoding, np.dtype(np.uint8), None, int(document.get("size", 0)))

    names, formats, offsets = [], [], []
    end, alignment = 0, int(document.get("align", 1))
    for index, field in enumerate(document.get("fields", [])):
        try:
            dtype = np.dtype(field["dtype"])
        except (KeyError, TypeError) as error:
            raise ValueError(f"schema {schema_id}: field {index} has no usable dtype: {error}") from None
        shape = tuple(int(extent) for extent in field.get("shape", []))
        offset = int(field["offset"]) if "offset" in field else _round_up(end, _alignment(dtype))
        names.append(str(field["name"]))
        formats.append((dtype, shape) if shape else dtype)
        offsets.append(offset)
        end = max(end, offset + dtype.itemsize * int(np.prod(shape, dtype=np.int64)))
        alignment = max(alignment, _alignment(dtype))
    if not names:
        raise ValueError(f"schema {schema_id}: encoding {encoding} needs at least one field")
    size = int(document.get("size", _round_up(end, alignment)))

    if encoding == "ndarray":
        field = document["fields"][0]
        return SlotLayout(schema_id, encoding, np.dtype(field["dtype"]),
                          tuple(int(extent) for extent in field.get("shape", [])), size)
    dtype = np.dtype({"names": names, "formats": formats, "offsets": offsets, "itemsize": size})
    return SlotLayout(schema_id, encoding, dtype, (), size)


def view_of(buffer: Any, layout: SlotLayout, committed: Optional[int] = None) -> np.ndarray:
    """A numpy view of one slot's memory (anything with the buffer protocol) laid out as ``layout`` says.

    Untyped layouts give the first ``committed`` bytes (all of the buffer when ``None``) as ``uint8``. A typed
    view needs ``layout.size`` bytes; a shorter buffer raises ``ValueError`` naming both sizes.
    """
    if layout.shape is None:
        flat = np.frombuffer(buffer, dtype=np.uint8)
        return flat if committed is None else flat[:committed]
    count = int(np.prod(layout.shape, dtype=np.int64)) if layout.shape else 1
    needed = layout.dtype.itemsize * count
    available = memoryview(buffer).nbytes
    if available < needed:
        raise ValueError(f"a slot of {available} bytes cannot hold schema {layout.schema_id} "
                         f"({needed} bytes of {layout.dtype.str} {list(layout.shape)})")
    return np.frombuffer(buffer, dtype=layout.dtype, count=count).reshape(layout.shape)
