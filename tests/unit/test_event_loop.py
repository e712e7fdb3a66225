"""The desk's event loop: uvloop where it is installed (it is a dependency on Linux)."""

from __future__ import annotations

import asyncio
import importlib.util

from bot import event_loop


def test_run_returns_the_result_on_uvloop_when_it_is_installed() -> None:
    async def main() -> tuple[str, int]:
        await asyncio.sleep(0)
        return type(asyncio.get_running_loop()).__module__, 42

    module, result = event_loop.run(main())
    assert result == 42
    if importlib.util.find_spec("uvloop") is not None:
        assert module.startswith("uvloop")
    else:
        assert module.startswith("asyncio")
