"""`autorecipe mcp`: the public API as an MCP server over stdio.

One tool per `autorecipe.api` function. Input schemas come from the functions' typed
signatures (pydantic builds them), results go back as structured content plus a short
text summary, and a UserError becomes a tool error: the server keeps running. Arguments
the signature rejects (a wrong type, a missing required one) come back as a tool error in
one line, as the CLI reports bad input: the argument, what it got, what it expects. So does
an argument the tool does not have (a misspelt optional one would otherwise be dropped and
the answer given at its default): its name, and the closest argument name or the list.
"""

from __future__ import annotations

import difflib
import functools
import inspect
import json
import re
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from autorecipe.errors import UserError, shown

TOOL_NAMES = (
    "recommend",
    "plan",
    "estimate",
    "check",
    "list_recipes",
    "show_recipe",
    "model_info",
    "gpu_info",
)

INSTRUCTIONS = (
    "autorecipe answers questions about training with NVIDIA Megatron-Bridge from the "
    "released recipe source: which recipe and dataset preset to use for a model, goal "
    "(pretrain/sft/peft), GPU count and type and sequence length (recommend); which parallel "
    "layouts are valid and fit (plan, estimate); which pitfalls a recipe plus overrides hits "
    "(check); what recipes exist (list_recipes, show_recipe); model and GPU facts "
    "(model_info, gpu_info). Prefer these answers over recalling recipe tables."
)


def _dump(result: Any) -> Any:
    if isinstance(result, BaseModel):
        return result.model_dump(mode="json", by_alias=True)
    if isinstance(result, list):
        return [_dump(r) for r in result]
    return result


def summarize(result: Any) -> str:
    """A few lines a person (or model) can read without parsing the JSON."""
    data = _dump(result)
    if isinstance(data, list):
        names = [d.get("name", str(d)) if isinstance(d, dict) else str(d) for d in data]
        head = ", ".join(names[:20])
        return f"{len(names)} results: {head}{' …' if len(names) > 20 else ''}"
    if not isinstance(data, dict):
        return str(data)
    lines: list[str] = []
    if isinstance(data.get("recipe"), dict):
        lines.append(f"recipe: {data['recipe'].get('name')} ({data['recipe'].get('kind')})")
    for key in ("name", "dataset", "command"):
        if isinstance(data.get(key), str):
            lines.append(f"{key}: {data[key]}")
    if isinstance(data.get("layout"), dict):
        lay = data["layout"]
        lines.append(
            "layout: "
            + " ".join(
                f"{k}={lay.get(k)}"
                for k in ("tp", "pp", "vp", "cp", "ep", "etp", "dp", "mbs", "gbs")
                if lay.get(k) is not None
            )
        )
    if isinstance(data.get("memory"), dict):
        mem = data["memory"]
        lines.append(
            f"memory: {_num(mem.get('per_gpu_gib'), '.1f')} of {_num(mem.get('capacity_gib'), 'g')} "
            f"GiB per GPU, fits={mem.get('fits')}"
        )
    if isinstance(data.get("throughput"), dict):
        thr = data["throughput"]
        lines.append(
            f"throughput: {_num(thr.get('tokens_per_sec_per_gpu'), ',.0f')} tokens/s/GPU, "
            f"MFU {_num(thr.get('mfu'), '.1%')}"
        )
    if isinstance(data.get("candidates"), list):
        lines.append(f"{len(data['candidates'])} candidate layouts, best first")
    if isinstance(data.get("findings"), list):
        for f in data["findings"][:10]:
            lines.append(f"[{f.get('severity')}] {f.get('id')}: {f.get('message')}")
    return "\n".join(lines) if lines else json.dumps(data)[:2000]


def _num(value: Any, spec: str) -> str:
    """A number of the structured answer, rounded for the text summary."""
    return format(value, spec) if isinstance(value, (int, float)) else str(value)


def _as_arguments(message: str, names: list[str]) -> str:
    """A UserError's message with the CLI's spelling of each argument (--seq-len, -tp), which
    the API shares with the command line, written as the tool's argument (seq_len, tp).

    >>> _as_arguments("--seq-len must be at least 1 (got 0)", ["seq_len", "tp"])
    'seq_len must be at least 1 (got 0)'
    >>> _as_arguments("-tp must be at least 1; --tp-comm stays", ["tp"])
    'tp must be at least 1; --tp-comm stays'
    """
    for name in names:
        flags = "|".join(re.escape(f) for f in (f"--{name.replace('_', '-')}", f"-{name}"))
        message = re.sub(rf"(?<![\w-])(?:{flags})(?![\w-])", name, message)
    return message


def _as_tool(fn: Callable[..., Any]) -> Callable[..., Any]:
    from mcp.server.mcpserver.exceptions import ToolError
    from mcp.types import CallToolResult, TextContent

    names = list(inspect.signature(fn).parameters)

    @functools.wraps(fn)
    def tool(*args: Any, **kwargs: Any) -> Any:
        try:
            result = fn(*args, **kwargs)
        except UserError as exc:
            raise ToolError(_as_arguments(str(exc), names)) from None
        except Exception as exc:  # a bug: said in one line, as the CLI's exit 3 says it
            raise ToolError(
                f"internal error in autorecipe (a bug): {type(exc).__name__}: {exc}"
            ) from exc
        structured = _dump(result)
        if not isinstance(structured, dict):
            structured = {"result": structured}
        return CallToolResult(
            content=[TextContent(type="text", text=summarize(result))],
            structured_content=structured,
        )

    return tool


_TYPE_NAMES = {
    "integer": ("an integer", "integers"),
    "number": ("a number", "numbers"),
    "string": ("a string", "strings"),
    "boolean": ("true or false", "true/false values"),
    "object": ("an object", "objects"),
    "array": ("a list", "lists"),
}


def _expected(schema: dict[str, Any]) -> str:
    """What a JSON schema accepts, in words: "an integer", "a list of strings or a string".

    null is left out where something else is accepted: it is never the value to suggest.

    >>> _expected({"anyOf": [{"type": "integer"}, {"type": "null"}]})
    'an integer'
    >>> _expected({"anyOf": [{"items": {"type": "string"}, "type": "array"}, {"type": "string"}]})
    'a list of strings or a string'
    """
    options = schema.get("anyOf") or schema.get("oneOf") or [schema]
    words: list[str] = []
    for option in options:
        kind = option.get("type")
        if "enum" in option:
            word = "one of: " + ", ".join(str(v) for v in option["enum"])
        elif kind == "array" and isinstance(option.get("items"), dict):
            item = option["items"].get("type")
            word = f"a list of {_TYPE_NAMES[item][1]}" if item in _TYPE_NAMES else "a list"
        elif kind in _TYPE_NAMES:
            word = _TYPE_NAMES[kind][0]
        elif kind == "null":
            word = "null"
        else:
            word = "a value of the type the tool's input schema gives"
        if word not in words:
            words.append(word)
    if len(words) > 1 and "null" in words:
        words.remove("null")
    return " or ".join(words)


def _argument_errors(tool: str, arguments: dict[str, Any], errors: list[Any], schema: Any) -> str:
    """A pydantic ValidationError's errors for `tool`'s `arguments` as one line: each
    argument once, with the value it got (cut short) and what its schema accepts."""
    properties = schema.get("properties", {}) if isinstance(schema, dict) else {}
    problems: dict[str, str] = {}
    for err in errors:
        loc = err.get("loc") or ()
        name = str(loc[0]) if loc else ""
        if name in problems:
            continue  # a union reports each member: the argument is said once
        prop = properties.get(name)
        want = (
            f"expected {_expected(prop)}"
            if isinstance(prop, dict)
            else " ".join(str(err.get("msg", "invalid")).split())
        )
        if err.get("type") == "missing":
            problems[name] = f"{name}: missing, a required argument ({want})"
        elif name in arguments:
            problems[name] = f"{name}: {want}, got {shown(repr(arguments[name]))}"
        else:
            problems[name] = f"{name or 'arguments'}: {want}"
    return f"{tool}: " + "; ".join(problems.values())


def _unknown_arguments(tool: str, arguments: dict[str, Any], schema: Any) -> str | None:
    """One line naming the `arguments` that `tool`'s input `schema` does not have, each with
    the closest argument name ("did you mean seq_len?") or, where none is close, the list of
    the tool's arguments; None when every argument is the tool's own (or the schema does
    not say which arguments it takes).

    >>> schema = {"properties": {"model": {}, "gpus": {}, "seq_len": {}}}
    >>> _unknown_arguments("recommend", {"model": "m", "seq_length": 4096}, schema)
    'recommend: seq_length: not an argument, did you mean seq_len?'
    >>> _unknown_arguments("recommend", {"colour": "red"}, schema)
    'recommend: colour: not an argument; its arguments are model, gpus, seq_len'
    >>> _unknown_arguments("recommend", {"gpus": 8}, schema) is None
    True
    """
    if not isinstance(schema, dict) or schema.get("additionalProperties") is True:
        return None
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return None
    names = [str(n) for n in properties]
    unknown = [a for a in arguments if a not in properties]
    if not unknown:
        return None
    problems: list[str] = []
    listed = False
    for arg in unknown:
        said = shown(arg if arg.isidentifier() else repr(arg))
        close = difflib.get_close_matches(arg.lower(), names, n=1)
        if close:
            problems.append(f"{said}: not an argument, did you mean {close[0]}?")
        else:
            problems.append(f"{said}: not an argument")
            listed = True
    if listed:  # said once, after every unknown name
        problems.append("its arguments are " + (", ".join(names) if names else "none"))
    return f"{tool}: " + "; ".join(problems)


def build_server():
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
    from pydantic import ValidationError

    from autorecipe import __version__, api

    class Server(MCPServer):
        """MCPServer whose argument-validation errors read as one line per argument, and
        which refuses an argument its tool does not have instead of dropping it."""

        _schemas: dict[str, Any] | None = None

        async def _input_schema(self, name: str) -> Any:
            """`name`'s input schema, from list_tools; read once, again if `name` is new."""
            if self._schemas is None or name not in self._schemas:
                self._schemas = {t.name: t.input_schema for t in await self.list_tools()}
            return self._schemas.get(name)

        async def call_tool(self, name: str, arguments: dict[str, Any], context: Any = None) -> Any:
            line = _unknown_arguments(name, arguments or {}, await self._input_schema(name))
            if line is not None:
                raise ToolError(f"Error executing tool {line}")
            try:
                return await super().call_tool(name, arguments, context)
            except UnexpectedToolError:
                raise
            except ToolError as exc:
                if not isinstance(exc.__cause__, ValidationError):
                    raise
                schema = await self._input_schema(name)
                line = _argument_errors(name, arguments, exc.__cause__.errors(), schema)
                raise ToolError(f"Error executing tool {line}") from exc.__cause__

    api.import_types()  # the tool schemas are read from the signatures' annotations
    server = Server(name="autorecipe", version=__version__, instructions=INSTRUCTIONS)
    for name in TOOL_NAMES:
        fn = getattr(api, name)
        server.add_tool(_as_tool(fn), name=name, description=(fn.__doc__ or "").strip())
    return server


def _warm_up() -> None:
    """Load the index, catalogs and calibrated parameters before the first request.

    One real query touches every cache the tools use, so the first call an agent makes
    is as fast as the later ones.
    """
    from autorecipe import api

    try:
        api.recommend(model="meta-llama/Meta-Llama-3-8B", mode="pretrain", gpus=8, gpu_type="h100")
    except UserError:
        pass


def serve() -> None:
    server = build_server()
    _warm_up()
    server.run("stdio")
