"""`autorecipe mcp`: serve the API to agents over stdio."""

from __future__ import annotations

import typer

from autorecipe.errors import UserError


def register(app: typer.Typer) -> None:
    @app.command("mcp")
    def mcp_command() -> None:
        """Run the MCP server over stdio (needs the `mcp` extra).

        Example client config: {"mcpServers": {"autorecipe": {"command": "autorecipe", "args": ["mcp"]}}}
        """
        try:
            import mcp  # noqa: F401
        except ImportError:
            raise UserError(
                "the MCP server needs the MCP SDK: pip install 'autorecipe[mcp]'"
            ) from None
        from autorecipe.mcp_server import serve

        serve()
