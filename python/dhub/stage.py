# SPDX-License-Identifier: Apache-2.0
"""Python components in a dhub graph: the contract of a class the ``python`` plugin runs (docs/python-stages.md).

A graph node names a module and a class, and gives the class's parameters beside them::

    {"id": "peaks", "plugin": "python", "component": "dhub.stage.python",
     "params": {"module": "peaks", "class": "Peaks", "threshold": 0.5},
     "inputs": ["raw"], "outputs": ["peaks"]}

``"component"`` says what the class is: ``dhub.stage.python`` (one input, one output), ``dhub.sink.python``
(one input) or ``dhub.source.python`` (one output). The class has:

``params`` (class attribute, optional)
    A list of parameter declarations, in the format of a component's ``params_schema``::

        params = [{"name": "threshold", "type": "number", "default": 0.5, "min": 0, "doc": "..."},
                  {"name": "mode", "type": "string", "default": "max", "enum": ["max", "min"]}]

    ``type`` is ``number``, ``integer``, ``boolean`` or ``string``; no ``default`` makes it required;
    ``module``, ``class`` and ``path`` are the plugin's own. ``dhub-kernel --validate`` checks a node's params
    against it, with each problem at its JSON path, and ``dhub-kernel --describe python --params
    '{"module": "peaks", "class": "Peaks"}'`` lists it, as for any component. Without ``params``, the
    constructor's keyword parameters of type ``int``, ``float``, ``bool`` or ``str`` (by annotation, else by
    default) are the declaration: ``def __init__(self, threshold: float, channel=0)``.
``__init__(self, ...)``
    Called once per node (and again after a restart of its process) with the node's parameters as keyword
    arguments, checked against the declaration and with its defaults filled in.
``process(self, inputs, outputs)`` (stage), ``consume(self, inputs)`` (sink), ``produce(self, outputs)`` (source)
    Called once per slot. ``inputs`` and ``outputs`` are lists of one numpy array each: a view of the slot
    in shared memory (read-only for inputs, writable for outputs), shaped by the channel's typed schema
    (docs/schemas.md), or the slot's bytes as ``uint8`` when the channel has none. The views are valid only
    during the call: copy what you keep (``arr.copy()``); a view kept past the call is a node error.
``start(self)``, ``stop(self)`` (optional)
    Called on the node's thread before the first slot and after the last one.

What the per-slot method returns:

* ``None`` or ``True``: publish the output slot, whole (stages and sources);
* an ``int`` ``n``: publish the first ``n`` bytes of the output slot (stages and sources);
* ``False`` or :data:`SKIP`: publish nothing for this slot;
* :data:`END_OF_STREAM`: the node has finished (a source with no more data).

An exception is a failed call: its traceback is logged on the node and the node's ``on_error`` policy
applies.
"""
from __future__ import annotations

__all__ = ["SKIP", "END_OF_STREAM"]


class _Signal:
    """A named sentinel a per-slot method returns; compared by identity."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return f"dhub.stage.{self._name}"

    def __reduce__(self) -> str:
        return self._name  # pickles as the module attribute: the same object after a round trip


SKIP = _Signal("SKIP")
"""Return it (or ``False``) to publish nothing for this slot: a decimating stage, a sink's "not interested"."""

END_OF_STREAM = _Signal("END_OF_STREAM")
"""Return it to end the node: a source that has produced all it has (its output closes, downstream drains)."""
