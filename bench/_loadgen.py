"""A loopback load generator: raw keep-alive HTTP/1.1, closed or open loop.

Raw requests keep the generator's own CPU small (an HTTP client library costs
more than the server it measures). In an open loop, latency is counted from
when each request was due, so queueing in the server is included.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Coroutine
from typing import Any

Answer = Callable[[bytes, bytes, float], "str | None"]
"""(status line and headers, body, perf_counter time the request was sent or due) ->
a problem to report, or None."""


async def generate(
    port: int,
    connections: int,
    seconds: float,
    rate: float | None,
    request: Callable[[int], bytes],
    answer: Answer,
) -> dict[str, Any]:
    """Send `request(n)` over `connections` keep-alive connections for `seconds`, back to
    back (closed loop) or at `rate` a second (open loop); each response goes to `answer`.
    Returns the latencies (s), problems, elapsed wall time and the generator's CPU time."""
    latencies: list[float] = []
    errors: list[str] = []
    started = time.perf_counter()
    deadline = started + seconds
    counter = iter(range(10**9))
    due: asyncio.Queue[float] | None = asyncio.Queue() if rate else None

    async def schedule() -> None:
        assert due is not None and rate
        interval, n = 1.0 / rate, 0
        while True:
            at = started + n * interval
            if at >= deadline:
                for _ in range(connections):
                    due.put_nowait(-1.0)
                return
            delay = at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            due.put_nowait(at)
            n += 1

    async def connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while True:
                if due is not None:
                    sent_at = await due.get()
                    if sent_at < 0:
                        return
                else:
                    sent_at = time.perf_counter()
                    if sent_at >= deadline:
                        return
                writer.write(request(next(counter)))
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                body = await reader.readexactly(length)
                latencies.append(time.perf_counter() - sent_at)
                problem = answer(head, body, sent_at)
                if problem is not None:
                    errors.append(problem)
        finally:
            writer.close()

    cpu = time.process_time()
    tasks = [connection() for _ in range(connections)]
    if due is not None:
        tasks.append(schedule())
    await asyncio.gather(*tasks)
    return {
        "latencies": latencies,
        "errors": errors[:5],
        "error_count": len(errors),
        "elapsed": time.perf_counter() - started,
        "cpu": time.process_time() - cpu,
    }


def run_generator(work: Coroutine[Any, Any, dict[str, Any]], out: Any, nice: int) -> None:
    """In a generator process: run `work` (at priority `nice`, on uvloop when installed)
    and send its result down the pipe `out`."""
    if nice:
        os.setpriority(os.PRIO_PROCESS, 0, nice)
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    out.send(asyncio.run(work))
    out.close()
