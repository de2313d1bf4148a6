"""How an object travels to the gateway: by reference (its class's "module:Class"
path, or its source when it has no importable path: a script, a notebook, a class
defined inside a function) with its params, or pickled whole when asked."""

from __future__ import annotations

import base64
import inspect
import pickle
import textwrap
from typing import Any, Dict, Optional

from ..core.node import Node
from .config import RemoteExecutorConfig


def node_spec(obj: Node, config: Optional[RemoteExecutorConfig] = None) -> Dict[str, Any]:
    """How the gateway will make `obj`: pickled when the config says so, else its class
    by path or by source, and its params."""
    if config is not None and config.serialization == "pickle":
        return {"pickle": base64.b64encode(pickle.dumps(obj)).decode("ascii")}
    if config is not None and config.serialization != "reference":
        raise ValueError(f"serialization must be 'reference' or 'pickle', not {config.serialization!r}")
    cls = type(obj)
    module = cls.__module__
    # A class inside a function ("f.<locals>.C") cannot be imported by path anywhere.
    importable = "<locals>" not in cls.__qualname__
    if importable and module not in ("__main__", "builtins") and not module.startswith("remotemedia_user"):
        spec: Dict[str, Any] = {"class": f"{module}:{cls.__qualname__}"}
    else:
        spec = {"class": cls.__name__, "source": "from remotemedia import Node\n" + class_source(cls)}
    spec["params"] = obj.params()
    return spec


def class_source(cls: type) -> str:
    """The source of `cls` as a module-level definition the gateway can run: dedented
    (a class defined in a function or a method is indented), and refused with a clear
    error when it cannot travel on its own."""
    try:
        source = inspect.getsource(cls)
    except (OSError, TypeError) as error:
        raise ValueError(
            f"the source of {cls.__qualname__} is not available ({error}); define it in a file, "
            "or make its module importable on the gateway and send it by path"
        ) from error
    source = textwrap.dedent(source)
    try:
        compile(source, f"<source of {cls.__qualname__}>", "exec")
    except SyntaxError as error:
        raise ValueError(
            f"the source of {cls.__qualname__} does not stand alone once dedented ({error.msg}, line {error.lineno}); "
            "a multi-line string less indented than the class is the usual cause"
        ) from error
    # Variables of the enclosing function do not travel with the source: say so here,
    # not as a NameError on the gateway.
    for name, member in vars(cls).items():
        code = getattr(getattr(member, "__func__", member), "__code__", None)
        outer = [v for v in (code.co_freevars if code else ()) if v != "__class__"]
        if outer:
            raise ValueError(
                f"{cls.__qualname__}.{name} uses {', '.join(outer)} from its enclosing function, which do not "
                "travel with the class's source; pass them as params instead"
            )
    return source
