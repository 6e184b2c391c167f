# SPDX-License-Identifier: Apache-2.0
"""The Python half of the ``python`` plugin's set-up (plugins/python): find the class a node names, check the
node's ``args`` against the class's ``params`` declaration and make the instance.

Not API: the plugin calls :func:`load_component` from ``create``, with the interpreter's lock held. Every
problem a graph's author can fix is a :class:`SetupError` whose text says what is wrong and what to do; the
plugin logs it on the node (the log line names the node) and the node is not created.
"""
from __future__ import annotations

import importlib
import json
import math
import sys
import traceback
from typing import Any, Dict, List, Mapping

__all__ = ["SetupError", "load_component", "resolve_args"]

# The handler each component kind calls, per slot.
METHODS = {"stage": "process", "sink": "consume", "source": "produce"}
SIGNATURES = {"stage": "process(self, inputs, outputs)", "sink": "consume(self, inputs)",
              "source": "produce(self, outputs)"}
_TYPES = ("number", "integer", "boolean", "string")
_DECLARATION_KEYS = {"name", "type", "default", "min", "max", "enum", "unit", "doc"}


class SetupError(Exception):
    """A node's module, class or arguments cannot be used; the message says why and what to do."""


def _last_line(error: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(error), error)).strip()


def _sys_path_head(count: int = 4) -> str:
    head = sys.path[:count]
    return repr(head)[:-1] + (", ...]" if len(sys.path) > count else "]")


def _import(module: str, path: str) -> Any:
    try:
        return importlib.import_module(module)
    except Exception as error:  # noqa: BLE001 - whatever the module raised is the user's to see
        where = f"params.path is '{path}'" if path else "params.path is empty"
        inside = "" if isinstance(error, ModuleNotFoundError) and error.name == module else (
            "\n" + "".join(traceback.format_exception(type(error), error, error.__traceback__)).rstrip())
        raise SetupError(f"module '{module}' failed to import: {_last_line(error)} ({where}; sys.path starts with "
                         f"{_sys_path_head()}); put the module's directory in params.path (relative to the graph "
                         f"file) or on PYTHONPATH{inside}") from None


def _check_declaration(declared: Any, where: str) -> List[Mapping[str, Any]]:
    if not isinstance(declared, (list, tuple)):
        raise SetupError(f"{where}: params must be a list of {{'name', 'type', 'default', ...}} dicts, "
                         f"found {type(declared).__name__}")
    names = set()
    for index, entry in enumerate(declared):
        at = f"{where}: params[{index}]"
        if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str) or not entry["name"]:
            raise SetupError(f"{at} needs a 'name' (a non-empty string)")
        if entry["name"] in names:
            raise SetupError(f"{at}: '{entry['name']}' is declared twice")
        names.add(entry["name"])
        if entry.get("type") not in _TYPES:
            raise SetupError(f"{at} ('{entry['name']}'): 'type' must be one of {', '.join(_TYPES)}, "
                             f"found {entry.get('type')!r}")
        unknown = set(entry) - _DECLARATION_KEYS
        if unknown:
            raise SetupError(f"{at} ('{entry['name']}'): unknown keys {sorted(unknown)}; known: "
                             f"{sorted(_DECLARATION_KEYS)}")
        if "default" in entry:
            problem = _value_problem(entry, entry["default"])
            if problem:
                raise SetupError(f"{at} ('{entry['name']}'): its default {problem}")
    return list(declared)


def _value_problem(entry: Mapping[str, Any], value: Any) -> str:
    """What is wrong with value for the declared parameter, as the kernel words it for C++ components; ''."""
    kind = entry["type"]
    if kind == "boolean":
        return "" if isinstance(value, bool) else f"expected a boolean, found {json.dumps(value)}"
    if kind == "string":
        if not isinstance(value, str):
            return f"expected a string, found {json.dumps(value)}"
        choices = entry.get("enum")
        if choices and value not in choices:
            return f"'{value}' is not one of {', '.join(map(str, choices))}"
        return ""
    if kind == "integer" and (isinstance(value, bool) or not isinstance(value, int)):
        return f"expected an integer, found {json.dumps(value)}"
    if kind == "number" and (isinstance(value, bool) or not isinstance(value, (int, float)) or
                             not math.isfinite(value)):
        return f"expected a finite number, found {json.dumps(value)}"
    if "min" in entry and value < entry["min"]:
        return f"{value} is below the minimum {entry['min']}"
    if "max" in entry and value > entry["max"]:
        return f"{value} is above the maximum {entry['max']}"
    return ""


def resolve_args(declared: Any, args: Mapping[str, Any], where: str) -> Dict[str, Any]:
    """args checked against a ``params`` declaration, with the declared defaults filled in.

    Unknown keys, wrong types, values out of range or not in the enum, and missing required parameters are a
    :class:`SetupError` naming the key.
    """
    entries = _check_declaration(declared, where)
    by_name = {entry["name"]: entry for entry in entries}
    for key, value in args.items():
        if key not in by_name:
            raise SetupError(f"{where}: unknown argument '{key}' in params.args; the class declares "
                             f"{', '.join(by_name) or 'no parameters'}")
        problem = _value_problem(by_name[key], value)
        if problem:
            raise SetupError(f"{where}: invalid value for argument '{key}' in params.args: {problem}")
    resolved = dict(args)
    for name, entry in by_name.items():
        if name in resolved:
            continue
        if "default" not in entry:
            raise SetupError(f"{where}: missing required argument '{name}' ({entry['type']}) in params.args; add "
                             f"\"{name}\": <value>")
        resolved[name] = entry["default"]
    return resolved


def load_component(kind: str, module: str, class_name: str, path: str, args_text: str) -> Any:
    """The instance a node of component kind ('stage', 'sink', 'source') runs; SetupError says why not."""
    if path and path not in sys.path:
        sys.path.insert(0, path)
    where = f"class '{class_name}' of module '{module}'"
    try:
        args = json.loads(args_text or "{}")
    except ValueError as error:
        raise SetupError(f"params.args is not JSON: {error}; give a JSON object such as "
                         f"\"{{\\\"threshold\\\": 0.5}}\"") from None
    if not isinstance(args, dict):
        raise SetupError(f"params.args must be a JSON object of keyword arguments for {where}, found "
                         f"{type(args).__name__}")

    loaded = _import(module, path)
    cls = getattr(loaded, class_name, None)
    if cls is None:
        public = sorted(name for name, value in vars(loaded).items() if isinstance(value, type) and
                        getattr(value, "__module__", None) == loaded.__name__)
        raise SetupError(f"module '{module}' ({getattr(loaded, '__file__', '?')}) has no class '{class_name}'; "
                         f"its classes: {', '.join(public) or 'none'}")
    if not isinstance(cls, type):
        raise SetupError(f"'{class_name}' of module '{module}' is a {type(cls).__name__}, not a class")
    method = METHODS[kind]
    if not callable(getattr(cls, method, None)):
        other = [f"{name}() of a {other_kind} (component dhub.{other_kind}.python)"
                 for other_kind, name in METHODS.items() if other_kind != kind and callable(getattr(cls, name, None))]
        raise SetupError(f"{where} has no method {method}(): a {kind} calls {SIGNATURES[kind]} once per slot"
                         + (f"; it has {other[0]}" if other else ""))

    declared = getattr(cls, "params", None)
    kwargs = resolve_args(declared, args, where) if declared is not None else args
    try:
        return cls(**kwargs)
    except Exception as error:  # noqa: BLE001 - the constructor's failure, with its traceback
        trace = "".join(traceback.format_exception(type(error), error, error.__traceback__)).rstrip()
        raise SetupError(f"{where}: the constructor failed: {_last_line(error)}\n{trace}") from None
