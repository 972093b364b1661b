"""End to end: `autorecipe mcp` as a subprocess, driven by the MCP SDK's own client."""

from __future__ import annotations

import re
import shutil
import sys

import anyio
import pytest

mcp = pytest.importorskip("mcp")
from mcp import Client, StdioServerParameters  # noqa: E402


def _server() -> StdioServerParameters:
    exe = shutil.which("autorecipe")
    if exe:
        return StdioServerParameters(command=exe, args=["mcp"])
    return StdioServerParameters(command=sys.executable, args=["-m", "autorecipe", "mcp"])


async def _session_checks() -> None:
    async with Client(_server(), read_timeout_seconds=60) as client:
        tools = await client.list_tools()
        names = {t.name for t in tools.tools}
        assert {
            "recommend",
            "plan",
            "estimate",
            "check",
            "list_recipes",
            "show_recipe",
            "model_info",
        } <= names
        rec_tool = next(t for t in tools.tools if t.name == "recommend")
        assert "model" in rec_tool.input_schema["properties"]

        result = await client.call_tool(
            "recommend", {"model": "Qwen3-30B-A3B", "mode": "sft", "gpus": 16, "gpu_type": "h100"}
        )
        assert not result.is_error, result.content
        assert result.structured_content["recipe"]["name"] == "qwen3_30b_a3b_sft_config"
        assert "qwen3_30b_a3b_sft_config" in result.content[0].text
        # the text summary rounds what the structured answer keeps exact
        assert re.search(r"MFU \d+\.\d%", result.content[0].text), result.content[0].text
        assert "=None" not in result.content[0].text

        bad = await client.call_tool(
            "recommend", {"model": "llama-9-13b", "mode": "sft", "gpus": 8, "gpu_type": "h100"}
        )
        assert bad.is_error
        assert "llama-9-13b" in bad.content[0].text

        # A wrong argument type over the real stdio transport: one line, not pydantic's text.
        typed = await client.call_tool(
            "recommend", {"model": "Llama 3 8B", "mode": "sft", "gpus": "eight", "gpu_type": "h100"}
        )
        assert typed.is_error
        assert typed.content[0].text.endswith("recommend: gpus: expected an integer, got 'eight'")

        # A misspelt optional argument over stdio: refused, not answered at its default.
        typo = await client.call_tool(
            "recommend",
            {"model": "Llama 3 8B", "mode": "sft", "gpus": 8, "gpu_type": "h100", "seqlen": 8192},
        )
        assert typo.is_error
        assert typo.content[0].text.endswith(
            "recommend: seqlen: not an argument, did you mean seq_len?"
        )

        # The server survived the bad call and still answers.
        again = await client.call_tool("model_info", {"name": "Llama 3 8B"})
        assert not again.is_error, again.content


def test_mcp_server_end_to_end() -> None:
    anyio.run(_session_checks)


# --- bad arguments, in process: the SDK's client against the server object -------------

LLAMA = {"model": "Llama 3 8B", "gpu_type": "h100"}


async def _call(tool: str, arguments: dict) -> str:
    """The error text a client gets for `tool(arguments)`; asserts it is one error line."""
    from autorecipe.mcp_server import build_server

    async with Client(build_server()) as client:
        result = await client.call_tool(tool, arguments)
        assert result.is_error, result.structured_content
        assert len(result.content) == 1
        text = result.content[0].text
        assert "\n" not in text, text
        assert "validation error" not in text and "errors.pydantic.dev" not in text, text
        # the server is still there for the next call
        again = await client.call_tool("gpu_info", {"name": "h100"})
        assert not again.is_error, again.content
        return text


@pytest.mark.parametrize(
    ("tool", "arguments", "says"),
    [
        (
            "recommend",
            {**LLAMA, "mode": "sft", "gpus": "eight"},
            "recommend: gpus: expected an integer, got 'eight'",
        ),
        ("plan", {**LLAMA, "gpus": 8.5}, "plan: gpus: expected an integer, got 8.5"),
        (
            "recommend",
            {**LLAMA, "mode": "sft"},
            "recommend: gpus: missing, a required argument (expected an integer)",
        ),
        ("model_info", {}, "model_info: name: missing, a required argument (expected a string)"),
        ("check", {"recipe": 5}, "check: recipe: expected a string, got 5"),
        (
            "check",
            {"recipe": "llama3_8b_pretrain_config", "overrides": "train.global_batch_size=64"},
            "check: overrides: expected a list of strings, got 'train.global_batch_size=64'",
        ),
        (
            "estimate",
            {**LLAMA, "gpus": 8, "sp": "maybe"},
            "estimate: sp: expected true or false, got 'maybe'",
        ),
        # a union argument is named once, with every type it takes
        (
            "estimate",
            {**LLAMA, "gpus": 8, "recompute_modules": 5},
            "estimate: recompute_modules: expected a list of strings or a string, got 5",
        ),
        (
            "plan",
            {**LLAMA, "gpus": 8, "tokens": {"count": 1}},
            "plan: tokens: expected a string or a number, got {'count': 1}",
        ),
        ("list_recipes", {"max_gpus": [8]}, "list_recipes: max_gpus: expected an integer, got [8]"),
    ],
)
def test_bad_argument_type_is_one_line_naming_argument(tool, arguments, says) -> None:
    text = anyio.run(_call, tool, arguments)
    assert text == f"Error executing tool {says}"


def test_several_bad_arguments_share_one_line_and_long_values_are_cut() -> None:
    text = anyio.run(_call, "plan", {**LLAMA, "gpus": "x" * 500, "top": "ten"})
    gpus, top = text.split("; ")
    assert gpus.startswith("Error executing tool plan: gpus: expected an integer, got 'xxx")
    assert gpus.endswith("…") and len(gpus) < 200, gpus
    assert top == "top: expected an integer, got 'ten'"


@pytest.mark.parametrize(
    ("tool", "arguments", "says"),
    [
        # values of the right type that the engine refuses: its UserError, one line
        ("recommend", {**LLAMA, "mode": "finetune", "gpus": 8}, "unknown mode 'finetune'"),
        ("recommend", {**LLAMA, "mode": "sft", "gpus": -8}, "gpus must be a positive"),
        ("plan", {**LLAMA, "gpus": 0}, "gpus must be at least 1"),
        ("recommend", {**LLAMA, "mode": "sft", "gpus": 8, "gpu_type": "h900"}, "'h900'"),
        # the engine's messages spell arguments as the CLI does (-tp, --seq-len); the tool
        # names them as its own arguments
        ("estimate", {**LLAMA, "gpus": 8, "tp": -2}, "tp must be at least 1"),
        ("plan", {**LLAMA, "gpus": 8, "seq_len": 0}, "seq_len must be at least 1"),
    ],
)
def test_bad_argument_value_is_one_line(tool, arguments, says) -> None:
    text = anyio.run(_call, tool, arguments)
    assert text.startswith(f"Error executing tool {tool}: ")
    assert says in text
    assert " --" not in text and " -tp" not in text, text


# --- arguments the tool does not have: refused, not silently dropped --------------------


def test_misspelt_optional_argument_is_refused_with_the_close_name() -> None:
    # seq_len is optional: dropped, the answer would come at the default sequence length
    text = anyio.run(_call, "recommend", {**LLAMA, "mode": "sft", "gpus": 8, "seq_length": 32768})
    assert text == (
        "Error executing tool recommend: seq_length: not an argument, did you mean seq_len?"
    )


def test_wholly_unknown_argument_lists_the_tools_arguments() -> None:
    text = anyio.run(_call, "gpu_info", {"name": "h100", "colour": "green"})
    assert text == (
        "Error executing tool gpu_info: colour: not an argument; its arguments are name"
    )
    text = anyio.run(_call, "recommend", {**LLAMA, "mode": "sft", "gpus": 8, "xyzzy": 1})
    assert text.startswith("Error executing tool recommend: xyzzy: not an argument; ")
    listed = text.split("its arguments are ", 1)[1].split(", ")
    assert {"model", "mode", "gpus", "gpu_type", "seq_len", "precision"} <= set(listed)


def test_several_unknown_arguments_are_each_named_on_one_line() -> None:
    text = anyio.run(_call, "plan", {**LLAMA, "gpus": 8, "gpu": 8, "Top": 3, "zzz": 1})
    assert text.startswith(
        "Error executing tool plan: gpu: not an argument, did you mean gpus?; "
        "Top: not an argument, did you mean top?; zzz: not an argument; its arguments are "
    )


async def _answers(tool: str, arguments: dict) -> dict:
    from autorecipe.mcp_server import build_server

    async with Client(build_server()) as client:
        result = await client.call_tool(tool, arguments)
        assert not result.is_error, result.content
        return result.structured_content


def test_known_arguments_still_answer_and_are_used() -> None:
    args = {**LLAMA, "mode": "sft", "gpus": 8}
    default = anyio.run(_answers, "recommend", args)
    longer = anyio.run(_answers, "recommend", {**args, "seq_len": 16384})
    assert default["recipe"]["name"] == longer["recipe"]["name"]
    assert (default["seq_length"], longer["seq_length"]) == (4096, 16384)
    assert "dataset.seq_length=16384" in longer["command"]
    assert anyio.run(_answers, "gpu_info", {"name": "h100"})
