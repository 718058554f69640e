"""The load generator: N connections on one event loop (uvloop), or spread over worker processes.

Each connection holds its request pre-encoded (the command repeated -P times, after any one-off
AUTH / HELLO 3 / CLIENT TRACKING / SELECT prefix) and writes it in one call; replies are counted
with hiredis. As in redis-benchmark, a request's latency is the time from writing it to the first
bytes of its reply, every reply of a pipelined batch gets the latency of the batch, and a
``__rand_int__`` in the request is replaced by a fresh 12-digit number before each write when -r
is given.

Latencies go into a ``{microseconds: count}`` dict; the report builds the HDR histogram from it.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import multiprocessing.connection
import os
import random
import sys
import time

import hiredis

from ..cli.resp import encode_command
from .options import BenchConfig

try:
    import uvloop
except ImportError:  # pragma: no cover - optional
    uvloop = None

RAND_MARK = b"__rand_int__"
perf_counter_ns = time.perf_counter_ns
ReplyError = hiredis.ReplyError
LATENCY_MAX_US = 3_000_000


def new_event_loop() -> asyncio.AbstractEventLoop:
    return uvloop.new_event_loop() if uvloop is not None else asyncio.new_event_loop()


class RunState:
    """Counters of one benchmark run in one process (the whole run without --threads)."""

    __slots__ = (
        "requests", "issued", "finished", "samples", "window_sum", "window_count", "live",
        "done", "config", "clients", "stopping", "last_error_time", "reconnecting",
    )

    def __init__(self, config: BenchConfig, requests: int) -> None:
        self.config = config
        self.requests = requests
        self.issued = 0
        self.finished = 0
        self.samples: dict[int, int] = {}
        self.window_sum = 0
        self.window_count = 0
        self.live = 0
        self.done: asyncio.Future | None = None
        self.clients: set[BenchClient] = set()
        self.stopping = False
        self.last_error_time = 0
        # -k 0: connections being replaced (counted as live, as redis-benchmark does).
        self.reconnecting: set[asyncio.Task] = set()


class Template:
    """What every connection sends: the prefix commands and the pipelined request."""

    def __init__(self, config: BenchConfig, command: bytes) -> None:
        prefix = []
        if config.auth is not None:
            if config.user is None:
                prefix.append(encode_command([b"AUTH", config.auth.encode()]))
            else:
                prefix.append(encode_command([b"AUTH", config.user.encode(), config.auth.encode()]))
        if config.resp3:
            prefix.append(encode_command([b"HELLO", b"3"]))
        if config.enable_tracking:
            prefix.append(encode_command([b"CLIENT", b"TRACKING", b"on"]))
        if config.dbnum != 0:
            prefix.append(encode_command([b"SELECT", str(config.dbnum).encode()]))
        self.prefix = b"".join(prefix)
        self.prefix_count = len(prefix)
        self.body = command * config.pipeline
        self.pipeline = config.pipeline
        # Offsets of __rand_int__ in the body, rewritten before every write when -r is given.
        self.rand_offsets: list[int] = []
        if config.randomkeys:
            at = self.body.find(RAND_MARK)
            while at >= 0:
                self.rand_offsets.append(at)
                at = self.body.find(RAND_MARK, at + len(RAND_MARK))


class BenchClient(asyncio.Protocol):
    """One connection."""

    __slots__ = (
        "state", "template", "transport", "reader", "pending", "prefix_pending", "first_write",
        "body", "start", "latency", "keyspacelen", "rand_offsets", "showerrors",
    )

    def __init__(self, state: RunState, template: Template) -> None:
        self.state = state
        self.template = template
        self.transport = None
        self.reader = hiredis.Reader()
        self.prefix_pending = template.prefix_count
        self.pending = template.pipeline + template.prefix_count
        self.first_write = True
        self.rand_offsets = template.rand_offsets
        self.body = bytearray(template.body) if self.rand_offsets else template.body
        self.keyspacelen = state.config.keyspacelen
        self.showerrors = state.config.showerrors
        self.start = 0
        self.latency = -1

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.state.live += 1
        if not self.state.config.idlemode:
            self.write_request()

    def connection_lost(self, exc) -> None:
        self.state.live -= 1
        self.state.clients.discard(self)
        self.transport = None

    def write_request(self) -> None:
        state = self.state
        if state.issued >= state.requests:
            return
        state.issued += self.template.pipeline
        body = self.body
        if self.rand_offsets:
            space = self.keyspacelen
            for offset in self.rand_offsets:
                number = random.randrange(space) if space else 0
                body[offset : offset + 12] = b"%012d" % (number % 1_000_000_000_000)
            body = bytes(body)
        if self.first_write and self.prefix_pending:
            body = self.template.prefix + body
        self.first_write = False
        self.start = perf_counter_ns() // 1000
        self.latency = -1
        self.transport.write(body)

    def data_received(self, data: bytes) -> None:
        if self.latency < 0:
            self.latency = perf_counter_ns() // 1000 - self.start
        reader = self.reader
        reader.feed(data)
        pending = self.pending
        gets = reader.gets
        got = 0
        if self.showerrors:
            while got < pending:
                reply = gets()
                if reply is False:
                    break
                got += 1
                if type(reply) is ReplyError:
                    self._show_error(reply)
        else:
            while got < pending and gets() is not False:
                got += 1
        if not got:
            return
        self.pending = pending - got
        if self.prefix_pending:  # replies to AUTH / HELLO / SELECT are not measured
            skipped = min(self.prefix_pending, got)
            self.prefix_pending -= skipped
            got -= skipped
        state = self.state
        finished = state.finished
        state.finished = finished + got
        # Replies beyond the requests asked for (the last pipelined batch) are not recorded.
        recorded = min(got, state.requests - finished) if finished < state.requests else 0
        if recorded:
            latency = self.latency if self.latency <= LATENCY_MAX_US else LATENCY_MAX_US
            samples = state.samples
            samples[latency] = samples.get(latency, 0) + recorded
            state.window_sum += latency * recorded
            state.window_count += recorded
        if not self.pending:
            self._done()

    def _show_error(self, reply) -> None:
        now = int(time.time())
        if self.state.last_error_time != now:
            self.state.last_error_time = now
            sys.stdout.write(f"Error from server: {reply}\n")

    def _done(self) -> None:
        state = self.state
        if state.finished >= state.requests:
            if state.done is not None and not state.done.done():
                state.done.set_result(None)
            return
        if state.config.keepalive:
            self.pending = self.template.pipeline
            self.write_request()
        else:
            # -k 0: a new connection for the next request.
            task = asyncio.get_running_loop().create_task(open_client(state, self.template))
            state.reconnecting.add(task)
            task.add_done_callback(state.reconnecting.discard)
            self.transport.close()


async def open_client(state: RunState, template: Template) -> BenchClient:
    config = state.config
    loop = asyncio.get_running_loop()
    ssl_context = config.tls.context() if config.tls.enabled else None
    factory = lambda: BenchClient(state, template)  # noqa: E731
    if config.socket_path is not None:
        _transport, client = await loop.create_unix_connection(
            factory, config.socket_path, ssl=ssl_context, server_hostname=config.tls.sni if ssl_context else None
        )
    else:
        _transport, client = await loop.create_connection(
            factory, config.host, config.port, ssl=ssl_context,
            server_hostname=(config.tls.sni or "") if ssl_context else None,
        )
    state.clients.add(client)
    return client


def connect_error_text(config: BenchConfig, exc: OSError) -> str:
    where = config.socket_path if config.socket_path is not None else f"{config.host}:{config.port}"
    reason = os.strerror(exc.errno) if getattr(exc, "errno", None) else str(exc)
    if reason == "Unknown error":
        reason = str(exc)
    return f"Could not connect to Redis at {where}: {reason}\n"


async def _run_clients(state: RunState, template: Template, numclients: int, ready=None, go=None,
                       on_tick=None) -> float:
    """Open the connections, run until the requests are done; returns the elapsed seconds.

    ``ready``/``go`` synchronise worker processes so that they start together."""
    loop = asyncio.get_running_loop()
    state.done = loop.create_future()
    config = state.config
    idle = config.idlemode
    config.idlemode = True  # connect everything first, start writing together
    try:
        for index in range(numclients):
            await open_client(state, template)
            if index % 64 == 63:
                await asyncio.sleep(0)
    except OSError as exc:
        sys.stderr.write(connect_error_text(config, exc))
        raise SystemExit(1) from None
    finally:
        config.idlemode = idle
    if ready is not None:
        ready.set()
        await loop.run_in_executor(None, go.wait)
    start = time.perf_counter()
    ticker = None
    if on_tick is not None:
        def tick() -> None:
            nonlocal ticker
            on_tick(state)
            ticker = loop.call_later(0.25, tick)

        ticker = loop.call_later(0.001, tick)
    if idle:
        await asyncio.Event().wait()  # -I: until interrupted
    if state.requests <= 0:
        state.done.set_result(None)
    for client in list(state.clients):
        if client.transport is not None:
            client.write_request()
    await state.done
    elapsed = time.perf_counter() - start
    if ticker is not None:
        ticker.cancel()
    state.stopping = True
    for task in list(state.reconnecting):
        task.cancel()
    for client in list(state.clients):
        if client.transport is not None:
            client.transport.close()
    return elapsed


def run_single(config: BenchConfig, command: bytes, on_tick) -> tuple[float, RunState]:
    """One benchmark in this process."""
    loop = new_event_loop()
    try:
        state = RunState(config, config.requests)
        template = Template(config, command)
        elapsed = loop.run_until_complete(_run_clients(state, template, config.numclients, on_tick=on_tick))
        loop.run_until_complete(asyncio.sleep(0))
        return elapsed, state
    finally:
        loop.close()


# -- worker processes (--threads) -------------------------------------------------------------------


def _worker(config: BenchConfig, command: bytes, clients: int, requests: int, slot: int, shared, ready, go,
            results) -> None:
    loop = new_event_loop()
    state = RunState(config, requests)
    template = Template(config, command)

    def publish(run: RunState) -> None:
        shared[slot * 3] = run.finished
        shared[slot * 3 + 1] += run.window_sum
        shared[slot * 3 + 2] += run.window_count
        run.window_sum = 0
        run.window_count = 0

    def tick(run: RunState) -> None:
        publish(run)

    async def main() -> None:
        ticker_task = None

        async def ticker() -> None:
            while True:
                await asyncio.sleep(0.05)
                tick(state)

        elapsed_future = asyncio.ensure_future(_run_clients(state, template, clients, ready, go))
        ticker_task = asyncio.ensure_future(ticker())
        await elapsed_future
        ticker_task.cancel()
        publish(state)

    try:
        loop.run_until_complete(main())
    except SystemExit:
        ready.set()
        results.send(("error", None))
        return
    results.send(("ok", (min(state.finished, requests), state.samples)))


def run_threads(config: BenchConfig, command: bytes, on_tick) -> tuple[float, RunState]:
    """One benchmark spread over ``config.threads`` processes; the connections are shared out
    round robin and the requests in proportion, so the totals are those asked for."""
    workers = config.threads
    context = multiprocessing.get_context("fork")
    shares = [config.numclients // workers + (1 if t < config.numclients % workers else 0) for t in range(workers)]
    active = [t for t in range(workers) if shares[t]]
    requests_left = config.requests
    quotas = []
    for position, t in enumerate(active):
        if position == len(active) - 1:
            quotas.append(requests_left)
        else:
            quota = config.requests * shares[t] // config.numclients
            quotas.append(quota)
            requests_left -= quota
    shared = context.Array("d", 3 * len(active), lock=False)
    go = context.Event()
    processes = []
    pipes = []
    readies = []
    for position, t in enumerate(active):
        ready = context.Event()
        parent_end, child_end = context.Pipe(duplex=False)
        process = context.Process(
            target=_worker,
            args=(config, command, shares[t], quotas[position], position, shared, ready, go, child_end),
            daemon=True,
        )
        process.start()
        processes.append(process)
        pipes.append(parent_end)
        readies.append(ready)
    for ready in readies:
        ready.wait()
    state = RunState(config, config.requests)
    start = time.perf_counter()
    go.set()
    next_tick = start + 0.001
    pending = list(range(len(pipes)))
    outcomes: dict[int, tuple] = {}
    while pending:
        timeout = max(0.0, next_tick - time.perf_counter())
        ready_pipes = multiprocessing.connection.wait([pipes[i] for i in pending], timeout)
        for pipe in ready_pipes:
            index = pipes.index(pipe)
            outcomes[index] = pipe.recv()
            pending.remove(index)
        if time.perf_counter() >= next_tick:
            state.finished = int(sum(shared[i * 3] for i in range(len(active))))
            state.window_sum = sum(shared[i * 3 + 1] for i in range(len(active)))
            state.window_count = int(sum(shared[i * 3 + 2] for i in range(len(active))))
            for i in range(len(active)):
                shared[i * 3 + 1] = 0
                shared[i * 3 + 2] = 0
            state.live = len(pending)
            on_tick(state)
            next_tick = time.perf_counter() + 0.25
    elapsed = time.perf_counter() - start
    for process in processes:
        process.join(5)
    finished = 0
    for index in range(len(pipes)):
        status, payload = outcomes.get(index, ("error", None))
        if status != "ok":
            raise SystemExit(1)
        count, samples = payload
        finished += count
        for latency, hits in samples.items():
            state.samples[latency] = state.samples.get(latency, 0) + hits
    state.finished = finished
    return elapsed, state
