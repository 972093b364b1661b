"""How fast `autorecipe mcp` answers: start-up to first answer, then per-call latency.

Run: python benchmarks/bench_mcp.py  (needs the `mcp` extra). Results: benchmarks/RESULTS.md.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import time

import anyio
from mcp import Client, StdioServerParameters

CASE = {"model": "Qwen3-30B-A3B", "mode": "sft", "gpus": 16, "gpu_type": "h100"}


async def main(repeats: int = 20) -> None:
    exe = shutil.which("autorecipe")
    params = (
        StdioServerParameters(command=exe, args=["mcp"])
        if exe
        else StdioServerParameters(command=sys.executable, args=["-m", "autorecipe", "mcp"])
    )
    t0 = time.perf_counter()
    async with Client(params, read_timeout_seconds=60) as client:
        t_ready = time.perf_counter()
        await client.list_tools()
        t_listed = time.perf_counter()
        first = await client.call_tool("recommend", CASE)
        t_first = time.perf_counter()
        assert not first.is_error, first.content
        laps = []
        for _ in range(repeats):
            t = time.perf_counter()
            res = await client.call_tool("recommend", CASE)
            laps.append(time.perf_counter() - t)
            assert not res.is_error
    print(f"server start + initialize: {1000 * (t_ready - t0):.0f} ms")
    print(f"list_tools:                {1000 * (t_listed - t_ready):.0f} ms")
    print(f"first recommend call:      {1000 * (t_first - t_listed):.0f} ms")
    print(
        f"recommend call (n={repeats}): median {1000 * statistics.median(laps):.1f} ms, "
        f"max {1000 * max(laps):.1f} ms"
    )


if __name__ == "__main__":
    anyio.run(main)
