"""A small closed-loop HTTP/1.1 load generator (asyncio, keep-alive), for 127.0.0.1 only.

Each of `concurrency` connections sends a request, waits for the whole response, and sends the
next, for `duration` seconds (after `warmup` seconds that are not counted).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass, field


@dataclass
class Result:
    name: str
    duration: float
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    accepted_all: int = 0  # 2xx including warm-up, to check against rows in the database

    @property
    def ok(self) -> int:
        return sum(n for status, n in self.statuses.items() if 200 <= status < 300)

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] * 1000

    def summary(self) -> dict:
        return {
            "name": self.name, "requests": len(self.latencies), "ok": self.ok, "errors": self.errors,
            "accepted_all": self.accepted_all,
            "statuses": self.statuses, "rps": round(len(self.latencies) / self.duration, 1),
            "p50_ms": round(self.percentile(50), 1), "p95_ms": round(self.percentile(95), 1),
            "p99_ms": round(self.percentile(99), 1),
            "mean_ms": round(statistics.fmean(self.latencies) * 1000, 1) if self.latencies else None,
        }


def _request(method: str, path: str, body: bytes, content_type: str) -> bytes:
    head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: keep-alive",
            "User-Agent: complaints-bench"]
    if body:
        head += [f"Content-Type: {content_type}", f"Content-Length: {len(body)}"]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def _read_response(reader: asyncio.StreamReader) -> int:
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("closed")
    status = int(status_line.split()[1])
    length = 0
    chunked = False
    close = False
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value.strip())
        elif name == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
        elif name == "connection" and "close" in value.lower():
            close = True
    if chunked:
        while True:
            size = int((await reader.readline()).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    if close:
        raise EOFError(status)
    return status


async def _worker(port: int, make_request, result: Result, start: float, warm_until: float, stop_at: float):
    reader = writer = None
    while time.monotonic() < stop_at:
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            t0 = time.monotonic()
            writer.write(make_request())
            await writer.drain()
            status = await _read_response(reader)
            t1 = time.monotonic()
        except EOFError as exc:  # server closed after a complete response
            status, t1 = exc.args[0], time.monotonic()
            writer.close()
            writer = None
        except (ConnectionError, OSError, asyncio.IncompleteReadError, ValueError):
            if time.monotonic() >= warm_until:
                result.errors += 1
            if writer is not None:
                writer.close()
            writer = None
            await asyncio.sleep(0.01)
            continue
        if 200 <= status < 300:
            result.accepted_all += 1
        if t0 >= warm_until and t1 <= stop_at:
            result.latencies.append(t1 - t0)
            result.statuses[status] = result.statuses.get(status, 0) + 1
    if writer is not None:
        writer.close()


def run(name: str, port: int, make_request, *, concurrency: int, duration: float, warmup: float = 2.0) -> Result:
    result = Result(name=name, duration=duration)

    async def main():
        start = time.monotonic()
        warm_until = start + warmup
        stop_at = warm_until + duration
        await asyncio.gather(*(_worker(port, make_request, result, start, warm_until, stop_at)
                               for _ in range(concurrency)))

    asyncio.run(main())
    return result


__all__ = ["Result", "_request", "run"]
