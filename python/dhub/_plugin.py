# SPDX-License-Identifier: Apache-2.0
"""The Python half of the ``python`` plugin's set-up (plugins/python): find the class a node names, check the
node's other params against the class's ``params`` declaration and make the instance.

Not API: the plugin calls :func:`load_component` from ``create`` and :func:`declared_params` from its
node_params_schema (``dhub-kernel --validate``), with the interpreter's lock held. Every
problem a graph's author can fix is a :class:`SetupError` whose text says what is wrong and what to do; the
plugin logs it on the node (the log line names the node) and the node is not created.
"""
from __future__ import annotations

import importlib
import inspect
import json
import math
import os
import sys
import traceback
import typing
from typing import Any, Dict, List, Mapping

__all__ = ["SetupError", "declared_params", "load_component", "resolve_args"]

# The handler each component kind calls, per slot.
METHODS = {"stage": "process", "sink": "consume", "source": "produce"}
SIGNATURES = {"stage": "process(self, inputs, outputs)", "sink": "consume(self, inputs)",
              "source": "produce(self, outputs)"}
_TYPES = ("number", "integer", "boolean", "string")
_DECLARATION_KEYS = {"name", "type", "default", "min", "max", "enum", "unit", "doc"}
# The python plugin's own parameters (plugins/python/components.hpp); every other key of a node's params is the
# class's.
PLUGIN_PARAMS = ("module", "class", "path")


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
        # The kernel's rules for a C++ component's params_schema, so that --validate reads what create() reads.
        for key in ("min", "max"):
            if key in entry and (isinstance(entry[key], bool) or not isinstance(entry[key], (int, float)) or
                                 not math.isfinite(entry[key])):
                raise SetupError(f"{at} ('{entry['name']}'): '{key}' must be a finite number, found {entry[key]!r}")
        if "enum" in entry and (not isinstance(entry["enum"], (list, tuple)) or
                                not all(isinstance(choice, str) for choice in entry["enum"])):
            raise SetupError(f"{at} ('{entry['name']}'): 'enum' must be a list of strings, found {entry['enum']!r}")
        for key in ("unit", "doc"):
            if key in entry and not isinstance(entry[key], str):
                raise SetupError(f"{at} ('{entry['name']}'): '{key}' must be a string, found {entry[key]!r}")
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
    if kind == "integer" and (isinstance(value, bool) or not isinstance(value, (int, float)) or
                              (isinstance(value, float) and not value.is_integer())):
        # 2.0 is an integer, as the kernel's check of a C++ component's parameters has it.
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
    """args (a node's params but the plugin's own) checked against a ``params`` declaration, with the declared defaults filled in.

    Unknown keys, wrong types, values out of range or not in the enum, and missing required parameters are a
    :class:`SetupError` naming the key.
    """
    entries = _check_declaration(declared, where)
    by_name = {entry["name"]: entry for entry in entries}
    for key, value in args.items():
        if key not in by_name:
            raise SetupError(f"{where}: unknown parameter '{key}'; the class declares "
                             f"{', '.join(by_name) or 'no parameters (give it a params list, or __init__ keyword parameters)'}")
        problem = _value_problem(by_name[key], value)
        if problem:
            raise SetupError(f"{where}: invalid value for parameter '{key}': {problem}")
    resolved = {key: int(value) if by_name[key]["type"] == "integer" else value for key, value in args.items()}
    for name, entry in by_name.items():
        if name in resolved:
            continue
        if "default" not in entry:
            raise SetupError(f"{where}: missing required parameter '{name}' ({entry['type']}); add "
                             f"\"{name}\": <value> to the node's params")
        resolved[name] = entry["default"]
    return resolved


def _node_params(params_json: str) -> Dict[str, Any]:
    try:
        params = json.loads(params_json or "{}")
    except ValueError as error:
        raise SetupError(f"the node's params are not JSON: {error}") from None
    if not isinstance(params, dict):
        raise SetupError(f"the node's params must be a JSON object, found {type(params).__name__}")
    for key in ("module", "class"):
        if not isinstance(params.get(key), str) or not params[key]:
            raise SetupError(f"params.{key} must name the {'module to import' if key == 'module' else 'class'}")
    return params


def _find_class(kind: str, params: Mapping[str, Any]) -> Any:
    module, class_name = params["module"], params["class"]
    path = params.get("path") or ""
    if path:
        # The kernel made it absolute against the graph file's directory; a node made without a graph (the SDK's
        # test harness) has it relative to the working directory. "dir/." is "dir" on sys.path and in messages.
        path = os.path.normpath(os.path.abspath(path))
        if path not in sys.path:
            sys.path.insert(0, path)
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
        where = f"class '{class_name}' of module '{module}'"
        other = [f"{name}() of a {other_kind} (component dhub.{other_kind}.python)"
                 for other_kind, name in METHODS.items() if other_kind != kind and callable(getattr(cls, name, None))]
        raise SetupError(f"{where} has no method {method}(): a {kind} calls {SIGNATURES[kind]} once per slot"
                         + (f"; it has {other[0]}" if other else ""))
    return cls


# Python types a constructor's annotations or defaults may name, and the parameter type each declares.
_PYTHON_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string"}


def _declaration_from_signature(cls: Any, where: str) -> List[Dict[str, Any]]:
    """A class without ``params``: its constructor's keyword parameters of type int, float, bool or str (by
    annotation, else by default). One with another default (``logger=None``) is left to the constructor: a graph
    cannot give it. One with neither an annotation nor a default cannot be typed: that is a SetupError."""
    if cls.__init__ is object.__init__:
        return []
    try:
        signature = inspect.signature(cls.__init__)
    except (TypeError, ValueError):  # a constructor Python cannot describe (a C extension's) declares nothing
        return []
    try:
        hints = typing.get_type_hints(cls.__init__)
    except Exception:  # noqa: BLE001 - an annotation that does not resolve: the defaults still tell
        hints = {}
    declared = []
    for name, parameter in list(signature.parameters.items())[1:]:  # [0] is self
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD, parameter.POSITIONAL_ONLY):
            continue
        has_default = parameter.default is not parameter.empty
        kind = _PYTHON_TYPES.get(hints.get(name)) or (
            _PYTHON_TYPES.get(type(parameter.default)) if has_default else None)
        if kind is None and has_default:
            continue  # logger=None, callback=print: not a graph's to give
        if kind is None:
            raise SetupError(f"{where}: cannot tell the type of __init__'s parameter '{name}': annotate it "
                             f"(int, float, bool or str), give it a default of one of those types, or give the "
                             f"class a params list")
        entry: Dict[str, Any] = {"name": name, "type": kind}
        if has_default and not _value_problem(entry, parameter.default):
            entry["default"] = parameter.default
        elif has_default:  # annotated int, defaulting to None: optional for the constructor, so for the graph
            continue
        declared.append(entry)
    return declared


def _declaration_of(cls: Any, where: str) -> List[Mapping[str, Any]]:
    """The class's ``params`` declaration, checked; without one, what its constructor's signature declares."""
    declared = getattr(cls, "params", None)
    entries = _check_declaration(declared if declared is not None else _declaration_from_signature(cls, where),
                                 where)
    for index, entry in enumerate(entries):
        if entry["name"] in PLUGIN_PARAMS:
            raise SetupError(f"{where}: params[{index}] declares '{entry['name']}', a parameter of the python "
                             f"plugin itself ({', '.join(PLUGIN_PARAMS)}); rename it")
    return entries


def declared_params(kind: str, params_json: str) -> str:
    """The class's parameters for a node's params, as a JSON array in the kernel's params_schema form.

    The plugin's node_params_schema (SDK 1.3): ``dhub-kernel --validate`` and ``--describe python --params`` check
    a node's keys against it as they check any component's. Imports the module.
    """
    params = _node_params(params_json)
    cls = _find_class(kind, params)
    return json.dumps(_declaration_of(cls, f"class '{params['class']}' of module '{params['module']}'"),
                      allow_nan=False)


def load_component(kind: str, params_json: str) -> Any:
    """The instance a node of component kind ('stage', 'sink', 'source') runs; SetupError says why not.

    params_json is the node's params: "module", "class" and "path" are the plugin's, every other key is an
    argument of the class's constructor, checked against its ``params`` declaration.
    """
    params = _node_params(params_json)
    cls = _find_class(kind, params)
    where = f"class '{params['class']}' of module '{params['module']}'"
    args = {key: value for key, value in params.items() if key not in PLUGIN_PARAMS}
    kwargs = resolve_args(_declaration_of(cls, where), args, where)
    try:
        return cls(**kwargs)
    except Exception as error:  # noqa: BLE001 - the constructor's failure, with its traceback
        trace = "".join(traceback.format_exception(type(error), error, error.__traceback__)).rstrip()
        raise SetupError(f"{where}: the constructor failed: {_last_line(error)}\n{trace}") from None
