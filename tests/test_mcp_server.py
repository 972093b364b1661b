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

        # The server survived the bad call and still answers.
        again = await client.call_tool("model_info", {"name": "Llama 3 8B"})
        assert not again.is_error, again.content


def test_mcp_server_end_to_end() -> None:
    anyio.run(_session_checks)
