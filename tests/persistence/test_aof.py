"""The append only file: what commands propagate (compared with the AOF real Redis 7.0 writes for
the same commands), loading files either server wrote, BGREWRITEAOF and CONFIG SET appendonly,
crash safety under appendfsync always, truncated files, INFO fields, the AOF command and
vermilion-check-aof (compared with redis-check-aof).

Servers are subprocesses with a directory of their own: ``dir`` is the process's working
directory, which an in-process server would change for the whole test session.
"""

from __future__ import annotations

import os
import random
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time

import pytest
import redis

from tests.conftest import IN_CI, free_port, wait_for_port
from tests.resp_raw import RawConnection

REDIS = shutil.which("redis-server")
REDIS_CHECK_AOF = shutil.which("redis-check-aof")
VERMILION = [sys.executable, "-m", "vermilion"]
CHECK_AOF = [sys.executable, "-m", "vermilion.tools.check_aof"]
LOG_PREFIX = re.compile(r"^\d+:[CMSX] \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d\.\d{3} [.*#-] ")


def _need(binary: str | None, name: str) -> None:
    if binary is None:
        message = f"{name} is not installed"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


# Vermilion servers are forked from a process that imported Vermilion once: a start then costs
# a fork and the dataset load instead of a Python start-up (about two seconds on a busy machine).
# Each forked child is a whole server process (killed with SIGKILL where a test says so).
_LAUNCHER = """
import json, os, sys
import vermilion.commands, vermilion.server
from vermilion.startup import main
for line in sys.stdin:
    verb, _, rest = line.partition(" ")
    if verb == "start":
        request = json.loads(rest)
        pid = os.fork()
        if pid == 0:
            null = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(null, fd)
            os.chdir(request["cwd"])
            code = 1
            try:
                code = main(request["args"])
            finally:
                os._exit(code)
        print(pid, flush=True)
    else:
        pid = int(rest)
        try:
            done, status = os.waitpid(pid, os.WNOHANG if verb == "poll" else 0)
        except ChildProcessError:
            done, status = pid, 0
        print("None" if done == 0 else os.waitstatus_to_exitcode(status), flush=True)
"""


class Launcher:
    """The forking process; ``start`` returns a Popen-like handle for one server."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", _LAUNCHER], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        self.lock = threading.Lock()

    def ask(self, line: str) -> str:
        with self.lock:
            self.proc.stdin.write(line + "\n")
            self.proc.stdin.flush()
            return self.proc.stdout.readline().strip()

    def start(self, args: list[str], cwd: str) -> Forked:
        import json

        return Forked(self, int(self.ask("start " + json.dumps({"args": args, "cwd": cwd}))))

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(10)


class Forked:
    """The subset of Popen the tests use, for a server forked by the Launcher."""

    def __init__(self, launcher: Launcher, pid: int) -> None:
        self.launcher = launcher
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            answer = self.launcher.ask(f"poll {self.pid}")
            self.returncode = None if answer == "None" else int(answer)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.returncode is None:
            os.kill(self.pid, signum)

    def wait(self, timeout: float | None = None) -> int:
        deadline = time.time() + (timeout or 60)
        while self.poll() is None:
            if time.time() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout or 60)
            time.sleep(0.02)
        return self.returncode


@pytest.fixture(scope="module")
def launcher():
    forker = Launcher()
    yield forker
    forker.close()


class Proc:
    """A server subprocess with its own directory, appendonly yes unless told otherwise."""

    def __init__(self, which: str, workdir, *args: str, wait: bool = True,
                 launcher: Launcher | None = None) -> None:
        if which == "redis":
            _need(REDIS, "redis-server")
        self.which = which
        self.workdir = str(workdir)
        self.port = free_port()
        self.logfile = os.path.join(self.workdir, f"{which}.log")
        base = VERMILION if which == "vermilion" else [REDIS]
        options = ["--port", str(self.port), "--dir", self.workdir, "--logfile", self.logfile,
                   "--save", "", "--daemonize", "no"]
        if "--appendonly" not in args:
            options += ["--appendonly", "yes"]
        if which == "vermilion" and launcher is not None:
            self.proc = launcher.start([*options, *args], self.workdir)
        else:
            self.proc = subprocess.Popen([*base, *options, *args], cwd=self.workdir,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if wait:
            _ready(self.port)

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port)

    def log(self) -> list[str]:
        try:
            with open(self.logfile, encoding="utf-8", errors="replace") as handle:
                lines = handle.read().splitlines()
        except FileNotFoundError:
            return []
        return [LOG_PREFIX.sub("", line) for line in lines if LOG_PREFIX.match(line)]

    def wait_log(self, message: str, timeout: float = 15.0) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if message in self.log():
                return
            time.sleep(0.05)
        raise AssertionError(f"{self.which} never logged {message!r}: {self.log()}")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    @property
    def aof_dir(self) -> str:
        return os.path.join(self.workdir, "appendonlydir")


@pytest.fixture
def procs(launcher):
    started: list[Proc] = []

    def start(which: str, workdir, *args: str, wait: bool = True) -> Proc:
        proc = Proc(which, workdir, *args, wait=wait, launcher=launcher)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.kill()


def _dir(tmp_path, name: str):
    path = tmp_path / name
    path.mkdir()
    return path


def parse_aof(data: bytes) -> list[list[bytes]]:
    """The commands (and #annotations, as one-element lists) of an AOF in RESP form."""
    commands = []
    index = 0
    while index < len(data):
        if data[index:index + 1] == b"#":
            end = data.index(b"\n", index)
            commands.append([data[index:end].rstrip(b"\r")])
            index = end + 1
            continue
        end = data.index(b"\r\n", index)
        count = int(data[index + 1:end])
        index = end + 2
        argv = []
        for _ in range(count):
            end = data.index(b"\r\n", index)
            length = int(data[index + 1:end])
            index = end + 2
            argv.append(data[index:index + length])
            index += length + 2
        commands.append(argv)
    return commands


def manifest_files(aof_dir: str) -> list[tuple[str, str]]:
    """(name, type) of each file the manifest names."""
    with open(os.path.join(aof_dir, "appendonly.aof.manifest")) as handle:
        rows = [line.split() for line in handle if line.strip()]
    return [(row[1], row[5]) for row in rows]


def current_incr(aof_dir: str) -> str:
    return os.path.join(aof_dir, [name for name, kind in manifest_files(aof_dir) if kind == "i"][-1])


_CLOCK_LIKE = re.compile(rb"(\d{13})(-\d+)?")


def normalised(commands: list[list[bytes]]) -> list[list[bytes]]:
    """Command names upper-cased; unix-ms times near now (expiries, stream IDs, XCLAIM TIME)
    replaced by a marker, their sequence part kept only when it is not 0 or 1."""
    now = int(time.time() * 1000)
    out = []
    for argv in commands:
        row = [argv[0].upper()]
        for arg in argv[1:]:
            match = _CLOCK_LIKE.fullmatch(arg)
            if match and abs(int(match.group(1)) - now) < 3_600_000:
                arg = b"<now>" + (b"-*" if match.group(2) else b"")
            row.append(arg)
        out.append(row)
    return out


# -- propagation: the same commands, the same AOF as Redis -----------------------------------------

# Scripts of redis-cli style lines ("SLEEP s" pauses). Each runs after FLUSHALL on a server pair.
PROPAGATION_SCRIPTS = {
    "expiry_rewrites": """
        set a 1
        expire a 100
        pexpire a 100000
        expireat a 9999999999
        pexpireat a 9999999999000
        expire a 100 NX
        expire a 200 GT
        pexpire a 100000 LT
        expire a 100 XX
        expire a -1
        set b 1
        pexpireat b 1
        persist nothing
        set c 1
        getex c ex 100
        getex c pxat 99999999999999
        getex c persist
        getex c persist
        getex c exat 1
    """,
    "set_family": """
        setex b 100 v
        psetex c 100000 v
        set d v ex 100
        set e v px 100000
        set f v exat 9999999999
        set g v pxat 9999999999000
        set k v keepttl get
        set k v nx get
        set k v xx get
        set k3 v ex 100 get
        getset gs v
        getdel gs
        getdel gs
        setnx sn 1
        msetnx m1 1 m2 2
        setrange r3 5 x
        incrbyfloat f1 1.5
        incrbyfloat f1 3.0e1
        set t1 5 ex 100
        incrbyfloat t1 1
        hincrbyfloat h f 2.5
        hincrbyfloat h f 1e2
        append ap x
    """,
    "sets_and_lists": """
        sadd s a
        spop s
        sadd s2 a b c
        spop s2 5
        spop s2 0
        rpush L1 a b c
        lmpop 1 L1 LEFT COUNT 2
        blpop L1 0
        blpop L1 0.01
        rpush L2 x y
        blmove L2 L3 LEFT RIGHT 0
        blmpop 0 1 L2 RIGHT COUNT 5
        rpush L4 a
        brpoplpush L4 L5 0
        lpop L5 10
        rpoplpush L3 L6
        lmove L6 L7 RIGHT LEFT
    """,
    "sorted_sets": """
        zadd z 1 a 2 b 3 c
        bzpopmin z 0
        bzpopmax z 0
        bzmpop 0 1 z MAX COUNT 5
        zadd z2 1 a 2 b
        zmpop 1 z2 MIN COUNT 10
        zadd z3 1 a
        zpopmin z3 5
    """,
    "transactions_and_scripts": """
        select 2
        set x 1
        multi
        set y 1
        exec
        multi
        set y 2
        incr y
        exec
        multi
        get y
        exec
        eval "redis.call('set','z',1)" 0
        eval "redis.call('set','z',1) redis.call('incr','z')" 0
        eval "return redis.call('get','z')" 0
        select 5
        multi
        set m 1
        incr m
        exec
        select 0
        set p 1 px 1
        SLEEP 0.05
        get p
        set q 1
    """,
    "streams": """
        xadd s 1-0 f v
        xadd s 2-0 f v
        xadd s 3-0 f v
        xgroup create s g 0
        xreadgroup GROUP g c1 COUNT 2 STREAMS s >
        xclaim s g c2 0 1-0
        xclaim s g c2 0 9-0 LASTID 3-0
        xdel s 2-0
        xclaim s g c3 0 2-0
        xgroup setid s g 0
        xreadgroup GROUP g c9 NOACK STREAMS s >
        xadd s MAXLEN ~ 1 4-0 f v
        xadd s MAXLEN ~ 1 LIMIT 5 5-* f v
        xtrim s MAXLEN ~ 0
        xtrim s MAXLEN 1
        xsetid s 9-0
        xack s g 1-0
        xgroup createconsumer s g c5
        xgroup delconsumer s g c5
    """,
    "keys_and_server": """
        set r1 v
        rename r1 r2
        copy r2 r3
        move r3 1
        del r2
        pfadd hll a b c
        pfcount hll
        pfcount hll
        rpush sl 3 1 2
        sort sl STORE dst
        sort nothing STORE dst
        swapdb 0 1
        flushdb
    """,
}


def _run_script(conn: RawConnection, script: str) -> None:
    for line in script.strip().splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("SLEEP "):
            time.sleep(float(line.split()[1]))
            continue
        conn.call(*shlex.split(line))


@pytest.fixture(scope="module")
def aof_pair(tmp_path_factory, launcher):
    """A real Redis and a Vermilion, both appendonly yes, with active expiry off (so expired
    keys are deleted by the commands that touch them, on both)."""
    _need(REDIS, "redis-server")
    root = tmp_path_factory.mktemp("aof-pair")
    pair = {}
    for which in ("redis", "vermilion"):
        workdir = root / which
        workdir.mkdir()
        # appendfsync always: Redis may postpone an everysec write while an fsync is running.
        proc = Proc(which, workdir, "--enable-debug-command", "yes", "--appendfsync", "always",
                    launcher=launcher)
        conn = RawConnection(proc.port)
        conn.call("DEBUG", "SET-ACTIVE-EXPIRE", "0")
        pair[which] = (proc, conn)
    yield pair
    for proc, conn in pair.values():
        conn.close()
        proc.kill()


def _propagated(proc: Proc, conn: RawConnection, script: str) -> list[list[bytes]]:
    conn.call("FLUSHALL")
    conn.call("SELECT", "0")
    path = current_incr(proc.aof_dir)
    start = os.path.getsize(path)
    _run_script(conn, script)
    conn.call("PING")
    with open(path, "rb") as handle:
        handle.seek(start)
        return normalised(parse_aof(handle.read()))


@pytest.mark.parametrize("name", sorted(PROPAGATION_SCRIPTS))
def test_propagation_matches_redis(aof_pair, name):
    script = PROPAGATION_SCRIPTS[name]
    theirs = _propagated(*aof_pair["redis"], script)
    ours = _propagated(*aof_pair["vermilion"], script)
    if name == "sets_and_lists":
        # SPOP with a count removes random members: compare the SREMs as a multiset.
        theirs, ours = _sorted_srems(theirs), _sorted_srems(ours)
    assert ours == theirs


def _sorted_srems(commands: list[list[bytes]]) -> list[list[bytes]]:
    srems = sorted(c for c in commands if c[0] == b"SREM")
    rest = iter(srems)
    return [next(rest) if c[0] == b"SREM" else c for c in commands]


def test_spop_with_count_propagates_one_srem_per_member(aof_pair):
    proc, conn = aof_pair["vermilion"]
    commands = _propagated(proc, conn, "sadd s a b c d e\nspop s 3")
    assert commands[1] == [b"MULTI"] and commands[-1] == [b"EXEC"]
    removed = [c for c in commands if c[0] == b"SREM"]
    assert len(removed) == 3 and all(len(c) == 3 and c[1] == b"s" for c in removed)
    assert {c[2] for c in removed} | set(proc.client().smembers("s")) == {b"a", b"b", b"c", b"d", b"e"}


def test_served_blocked_pop_is_propagated_after_the_push(aof_pair):
    """A client blocked in BLPOP and served by another's RPUSH: RPUSH, then LPOP (as Redis)."""
    results = {}
    for which in ("redis", "vermilion"):
        proc, conn = aof_pair[which]
        conn.call("FLUSHALL")
        path = current_incr(proc.aof_dir)
        start = os.path.getsize(path)
        waiter = redis.Redis(port=proc.port)
        popped = []
        thread = threading.Thread(target=lambda: popped.append(waiter.blpop(["q"], 5)))
        thread.start()
        deadline = time.time() + 5
        while b"blocked_clients:1" not in conn.call("INFO", "clients") and time.time() < deadline:
            time.sleep(0.01)
        conn.call("RPUSH", "q", "a")
        thread.join(5)
        waiter.close()
        conn.call("PING")
        with open(path, "rb") as handle:
            handle.seek(start)
            results[which] = normalised(parse_aof(handle.read()))
        assert popped == [(b"q", b"a")]
    assert results["vermilion"] == results["redis"]


def test_restore_with_relative_ttl_propagates_an_absolute_one(aof_pair):
    results = {}
    for which in ("redis", "vermilion"):
        proc, conn = aof_pair[which]
        client = proc.client()
        client.flushall()
        client.set("src", "hello")
        payload = client.dump("src")
        path = current_incr(proc.aof_dir)
        start = os.path.getsize(path)
        client.restore("r1", 100000, payload)
        client.restore("r2", 0, payload)
        client.restore("r1", 5000, payload, replace=True, idletime=10)
        client.restore("r3", 99999999999999, payload, absttl=True)
        with open(path, "rb") as handle:
            handle.seek(start)
            results[which] = normalised(parse_aof(handle.read()))
    assert results["vermilion"] == results["redis"]
    assert results["vermilion"][0][-1] == b"ABSTTL"


def test_timestamp_annotations(procs, tmp_path):
    ours = procs("vermilion", _dir(tmp_path, "ours"), "--aof-timestamp-enabled", "yes")
    ours.client().set("a", "1")
    with open(current_incr(ours.aof_dir), "rb") as handle:
        commands = parse_aof(handle.read())
    stamp = commands[0][0]
    assert stamp.startswith(b"#TS:") and abs(int(stamp[4:]) - time.time()) < 60
    assert commands[1:] == [[b"SELECT", b"0"], [b"SET", b"a", b"1"]]
    # Annotations are skipped when the file is loaded.
    ours.kill()
    again = procs("vermilion", ours.workdir)
    assert again.client().get("a") == b"1"


# -- files written by one server, loaded by the other ---------------------------------------------


def _populate(client: redis.Redis) -> None:
    client.set("s", "string")
    client.set("n", "12345")
    client.set("ttl", "v", ex=1000)
    client.rpush("l", *[f"e{i}" for i in range(200)])
    client.sadd("set", *range(50))
    client.sadd("set2", "a", "b")
    client.zadd("z", {f"m{i}": i / 3 for i in range(100)})
    client.hset("h", mapping={f"f{i}": f"v{i}" for i in range(80)})
    client.xadd("st", {"a": "1"}, id="1-1")
    client.xadd("st", {"b": "2"}, id="2-1")
    client.xgroup_create("st", "g", "0")
    client.xreadgroup("g", "c", {"st": ">"}, count=1)
    client.pfadd("hll", "a", "b", "c")
    client.incrbyfloat("fl", "2.5")
    client.execute_command("SELECT", 3)
    client.set("db3", "x")


def _contents(client: redis.Redis) -> dict:
    state = {}
    for db in range(16):
        client.execute_command("SELECT", db)
        for key in client.keys("*"):
            kind = client.type(key)
            if kind == b"string":
                value = client.get(key)
            elif kind == b"list":
                value = client.lrange(key, 0, -1)
            elif kind == b"set":
                value = sorted(client.smembers(key))
            elif kind == b"zset":
                value = client.zrange(key, 0, -1, withscores=True)
            elif kind == b"hash":
                value = sorted(client.hgetall(key).items())
            else:
                value = (client.xrange(key), client.execute_command("XINFO", "GROUPS", key),
                         client.xpending(key, "g"))
            ttl = client.pttl(key)
            state[(db, key)] = (kind, value, ttl > 0 and abs(ttl - 1_000_000) < 60_000 or ttl)
    client.execute_command("SELECT", 0)
    return state


@pytest.mark.parametrize("preamble", ["yes", "no"])
def test_redis_aof_loads_into_vermilion(procs, tmp_path, preamble):
    theirs = procs("redis", _dir(tmp_path, "theirs"), "--aof-use-rdb-preamble", preamble)
    client = theirs.client()
    _populate(client)
    client.bgrewriteaof()  # a base with the data, then more commands in the incr file
    _wait_rewrite(client)
    client.set("after", "rewrite")
    client.lpush("l", "head")
    expected = _contents(client)
    theirs.kill()
    ours_dir = _dir(tmp_path, "ours")
    shutil.copytree(theirs.aof_dir, ours_dir / "appendonlydir")
    ours = procs("vermilion", ours_dir, "--aof-use-rdb-preamble", preamble)
    assert _contents(ours.client()) == expected
    assert "DB loaded from append only file: " in "\n".join(ours.log())


@pytest.mark.parametrize("preamble", ["yes", "no"])
def test_vermilion_aof_loads_into_redis(procs, tmp_path, preamble):
    ours = procs("vermilion", _dir(tmp_path, "ours"), "--aof-use-rdb-preamble", preamble)
    client = ours.client()
    _populate(client)
    assert client.bgrewriteaof()
    _wait_rewrite(client)
    client.set("after", "rewrite")
    client.lpush("l", "head")
    expected = _contents(client)
    ours.kill()
    base = [name for name, kind in manifest_files(ours.aof_dir) if kind == "b"][0]
    assert base.endswith(".base.rdb" if preamble == "yes" else ".base.aof")
    theirs_dir = _dir(tmp_path, "theirs")
    shutil.copytree(ours.aof_dir, theirs_dir / "appendonlydir")
    theirs = procs("redis", theirs_dir, "--aof-use-rdb-preamble", preamble)
    assert _contents(theirs.client()) == expected
    # And Vermilion reloads its own files.
    again = procs("vermilion", ours.workdir)
    assert _contents(again.client()) == expected


def _wait_rewrite(client: redis.Redis, timeout: float = 30.0) -> dict:
    deadline = time.time() + timeout
    while time.time() < deadline:
        info = client.info("persistence")
        if not info["aof_rewrite_in_progress"] and not info["aof_rewrite_scheduled"]:
            return info
        time.sleep(0.05)
    raise AssertionError("the AOF rewrite did not finish")


# -- BGREWRITEAOF, CONFIG SET appendonly, INFO ------------------------------------------------------


def test_bgrewriteaof_files_logs_and_info(procs, tmp_path):
    ours = procs("vermilion", _dir(tmp_path, "ours"))
    client = ours.client()
    assert manifest_files(ours.aof_dir) == [("appendonly.aof.1.base.rdb", "b"),
                                            ("appendonly.aof.1.incr.aof", "i")]
    client.set("a", "1")
    assert RawConnection(ours.port).call("BGREWRITEAOF") == b"+Background append only file rewriting started\r\n"
    info = _wait_rewrite(client)
    assert sorted(os.listdir(ours.aof_dir)) == ["appendonly.aof.2.base.rdb",
                                                "appendonly.aof.2.incr.aof",
                                                "appendonly.aof.manifest"]
    assert info["aof_rewrites"] == 1 and info["aof_last_bgrewrite_status"] == "ok"
    assert info["aof_base_size"] == os.path.getsize(os.path.join(ours.aof_dir, "appendonly.aof.2.base.rdb"))
    log = ours.log()
    for line in ("Creating AOF incr file appendonly.aof.2.incr.aof on background rewrite",
                 "Background AOF rewrite terminated with success",
                 "Removing the history file appendonly.aof.1.incr.aof in the background",
                 "Removing the history file appendonly.aof.1.base.rdb in the background",
                 "Background AOF rewrite finished successfully"):
        assert line in log
    with open(os.path.join(ours.aof_dir, "appendonly.aof.manifest")) as handle:
        assert handle.read() == ("file appendonly.aof.2.base.rdb seq 2 type b\n"
                                 "file appendonly.aof.2.incr.aof seq 2 type i\n")


def test_bgrewriteaof_while_one_runs_and_while_bgsave_runs(procs, tmp_path):
    """Errors and replies as Redis: a rewrite in progress refuses another; one asked for while a
    BGSAVE runs is scheduled."""
    results = {}
    for which in ("redis", "vermilion"):
        proc = procs(which, _dir(tmp_path, which), "--rdb-key-save-delay", "200000")
        conn = RawConnection(proc.port)
        for i in range(5):  # 5 keys at 0.2 s each: a rewrite or save that lasts a second
            conn.call("SET", f"k{i}", "v")
        first = conn.call("BGREWRITEAOF")
        second = conn.call("BGREWRITEAOF")
        conn.call("CONFIG", "SET", "rdb-key-save-delay", "0")
        _wait_rewrite(proc.client())
        conn.call("CONFIG", "SET", "rdb-key-save-delay", "200000")
        bgsave = conn.call("BGSAVE")
        scheduled = conn.call("BGREWRITEAOF")
        info = proc.client().info("persistence")
        conn.call("CONFIG", "SET", "rdb-key-save-delay", "0")
        _wait_rewrite(proc.client())
        results[which] = (first, second, bgsave, scheduled, info["aof_rewrite_scheduled"])
        conn.close()
    assert results["vermilion"] == results["redis"]
    assert results["redis"][1] == b"-ERR Background append only file rewriting already in progress\r\n"
    assert results["redis"][3] == b"+Background append only file rewriting scheduled\r\n"


def test_config_set_appendonly_at_run_time(procs, tmp_path):
    ours = procs("vermilion", _dir(tmp_path, "ours"), "--appendonly", "no")
    client = ours.client()
    client.set("before", "1")
    assert not os.path.exists(ours.aof_dir)
    assert client.info("persistence")["aof_enabled"] == 0
    assert client.config_set("appendonly", "yes")
    _wait_rewrite(client)
    client.set("after", "2")
    assert client.config_set("appendonly", "yes")  # already on: nothing happens
    info = client.info("persistence")
    assert info["aof_enabled"] == 1 and info["aof_rewrites"] == 1
    assert [kind for _name, kind in manifest_files(ours.aof_dir)] == ["b", "i"]
    assert "Creating AOF incr file temp-appendonly.aof.incr on background rewrite" in ours.log()
    ours.kill()
    again = procs("vermilion", ours.workdir)
    assert again.client().mget("before", "after") == [b"1", b"2"]
    client = again.client()
    assert client.config_set("appendonly", "no")
    client.set("unlogged", "3")
    assert "aof_current_size" not in client.info("persistence")
    incr = current_incr(again.aof_dir)
    assert b"unlogged" not in open(incr, "rb").read()


def test_info_persistence_aof_fields_match_redis(procs, tmp_path):
    def fields(proc: Proc) -> list[str]:
        text = RawConnection(proc.port).call("INFO", "persistence").decode()
        names = [line.split(":")[0] for line in text.splitlines() if ":" in line]
        return [name for name in names if name.startswith(("aof_", "module_fork"))]

    for appendonly in ("yes", "no"):
        ours = procs("vermilion", _dir(tmp_path, f"ours-{appendonly}"), "--appendonly", appendonly)
        theirs = procs("redis", _dir(tmp_path, f"theirs-{appendonly}"), "--appendonly", appendonly)
        assert fields(ours) == fields(theirs)


def test_aof_command(procs, tmp_path):
    ours = procs("vermilion", _dir(tmp_path, "ours"), "--appendfsync", "always")
    client = ours.client()
    client.set("a", "1")
    reply = _parsed_call(ours.port, "AOF")
    state = dict(zip(reply[0::2], reply[1::2]))
    assert state[b"enabled"] == 1 and state[b"appendfsync"] == b"always"
    assert state[b"rewrite_in_progress"] == 0 and state[b"last_write_status"] == b"ok"
    assert [entry[:3] for entry in state[b"files"]] == [[b"appendonly.aof.1.base.rdb", 1, b"base"],
                                                        [b"appendonly.aof.1.incr.aof", 1, b"incr"]]
    assert state[b"current_size"] == sum(entry[3] for entry in state[b"files"])
    with pytest.raises(redis.ResponseError, match="wrong number of arguments for 'aof' command"):
        client.execute_command("AOF", "x")
    info = _parsed_call(ours.port, "COMMAND", "INFO", "AOF")[0]
    assert info[0] == b"aof" and info[1] == 1 and info[2] == [b"loading", b"stale"]


def _parsed_call(port: int, *args: str):
    """A reply as hiredis reads it (redis-py reshapes some commands' replies)."""
    import hiredis

    reader = hiredis.Reader()
    reader.feed(RawConnection(port).call(*args))
    return reader.gets()


# -- crash safety and damaged files -----------------------------------------------------------------


def _write_until_killed(port: int, acked: list[int], start: int, stop: threading.Event) -> None:
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    # No retries: a write is acknowledged only by the reply to its one and only sending.
    client = redis.Redis(port=port, socket_timeout=5, retry=Retry(NoBackoff(), 0))
    value = start
    try:
        while not stop.is_set():
            client.rpush("acked", value)
            acked.append(value)
            value += 1
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        pass


def _ready(port: int, timeout: float = 30.0) -> redis.Redis:
    """A client once the server answers PING (it answers -LOADING while the AOF loads)."""
    wait_for_port(port, timeout)
    client = redis.Redis(port=port, socket_timeout=60)
    deadline = time.time() + timeout
    while True:
        try:
            client.ping()
            return client
        except redis.BusyLoadingError:
            assert time.time() < deadline, "still loading"
            time.sleep(0.01)


@pytest.mark.parametrize("policy,iterations", [("always", 20), ("everysec", 5)])
def test_acknowledged_writes_survive_kill_9(tmp_path, launcher, policy, iterations):
    """kill -9 during a write load, restart, check: every acknowledged write is there. (Under
    everysec Redis promises at most a second of writes lost on a machine crash; a process crash
    loses nothing once write(2) returned, which happens before the reply is sent.)"""
    workdir = str(_dir(tmp_path, "ours"))
    port = free_port()
    args = ["--port", str(port), "--dir", workdir, "--appendonly", "yes", "--appendfsync", policy,
            "--save", "", "--logfile", os.path.join(workdir, "log")]
    acked: list[int] = []
    started = time.time()
    server = launcher.start(args, workdir)
    try:
        _ready(port)
        for round_number in range(iterations):
            stop = threading.Event()
            writer = threading.Thread(target=_write_until_killed,
                                      args=(port, acked, 1_000_000 * round_number, stop))
            writer.start()
            time.sleep(random.uniform(0.05, 0.15))
            server.send_signal(signal.SIGKILL)
            server.wait(10)
            stop.set()
            writer.join(10)
            server = launcher.start(args, workdir)
            stored = {int(v) for v in _ready(port).lrange("acked", 0, -1)}
            missing = [v for v in acked if v not in stored]
            assert not missing, f"round {round_number}: {len(missing)} acknowledged writes lost"
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait(10)
    assert len(acked) > iterations
    assert time.time() - started < 60


def test_truncated_aof_refused_or_loaded_with_aof_load_truncated(procs, tmp_path):
    workdir = _dir(tmp_path, "ours")
    first = procs("vermilion", workdir)
    client = first.client()
    for i in range(10):
        client.set(f"k{i}", "v")
    first.kill()
    incr = current_incr(first.aof_dir)
    size = os.path.getsize(incr)
    os.truncate(incr, size - 3)
    name = os.path.basename(incr)

    refused = procs("vermilion", workdir, "--aof-load-truncated", "no", wait=False)
    assert refused.proc.wait(30) == 1
    assert any(line.startswith(f"Unexpected end of file reading the append only file {name}. You can: "
                               "1) Make a backup of your AOF file, then use ./redis-check-aof --fix")
               for line in refused.log())

    loaded = procs("vermilion", workdir)
    assert loaded.client().dbsize() == 9
    log = loaded.log()
    assert f"!!! Warning: short read while loading the AOF file {name}!!!" in log
    valid = len(b"".join(b"*3\r\n$3\r\nset\r\n$2\r\nk%d\r\n$1\r\nv\r\n" % i for i in range(9))) + len(
        b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n")
    assert f"!!! Truncating the AOF {name} at offset {valid} !!!" in log
    assert f"AOF {name} loaded anyway because aof-load-truncated is enabled" in log
    assert os.path.getsize(incr) == valid


def test_bad_aof_format_and_manifest_refuse_to_start(procs, tmp_path):
    workdir = _dir(tmp_path, "ours")
    first = procs("vermilion", workdir)
    first.kill()
    incr = current_incr(first.aof_dir)
    with open(incr, "wb") as handle:
        handle.write(b"garbage\r\n")
    bad = procs("vermilion", workdir, wait=False)
    assert bad.proc.wait(30) == 1
    name = os.path.basename(incr)
    assert (f"Bad file format reading the append only file {name}: make a backup of your AOF "
            "file, then use ./redis-check-aof --fix <filename.manifest>") in bad.log()
    with open(incr, "wb") as handle:
        handle.write(b"*2\r\n$7\r\nNOSUCHC\r\n$1\r\na\r\n")
    unknown = procs("vermilion", workdir, wait=False)
    assert unknown.proc.wait(30) == 1
    assert f"Unknown command 'NOSUCHC' reading the append only file {name}" in unknown.log()
    with open(os.path.join(first.aof_dir, "appendonly.aof.manifest"), "w") as handle:
        handle.write("file x seq 1\n")
    manifest = procs("vermilion", workdir, wait=False)
    assert manifest.proc.wait(30) == 1
    assert "Invalid AOF manifest file format" in manifest.log()


def test_commands_get_loading_while_the_aof_loads(procs, tmp_path):
    """A server replaying its AOF answers -LOADING (Redis's text) to commands that need the
    data, and INFO says loading:1, until the last command is replayed."""
    workdir = _dir(tmp_path, "ours")
    first = procs("vermilion", workdir, "--aof-use-rdb-preamble", "no")
    pipe = first.client().pipeline(transaction=False)
    for i in range(1000):
        pipe.set(f"k{i}", "x")
    pipe.execute()
    first.kill()
    # key-load-delay: 2 ms per replayed command, so the 1000 SETs take two seconds.
    server = procs("vermilion", workdir, "--key-load-delay", "2000", wait=False)
    wait_for_port(server.port, 30)
    conn = RawConnection(server.port)
    assert conn.call("GET", "k1") == b"-LOADING Redis is loading the dataset in memory\r\n"
    assert conn.call("SET", "x", "1") == b"-LOADING Redis is loading the dataset in memory\r\n"
    assert b"\r\nloading:1\r\n" in conn.call("INFO", "persistence")
    deadline = time.time() + 30
    while conn.call("GET", "k999").startswith(b"-LOADING"):
        assert time.time() < deadline
        time.sleep(0.05)
    assert conn.call("GET", "k999") == b"$1\r\nx\r\n"
    assert conn.call("DBSIZE") == b":1000\r\n"


def test_incomplete_multi_is_reverted(procs, tmp_path):
    workdir = _dir(tmp_path, "ours")
    first = procs("vermilion", workdir)
    first.client().set("a", "1")
    first.kill()
    incr = current_incr(first.aof_dir)
    with open(incr, "ab") as handle:
        handle.write(b"*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nset\r\n$1\r\nb\r\n$1\r\n2\r\n")
    loaded = procs("vermilion", workdir)
    assert loaded.client().mget("a", "b") == [b"1", None]
    assert f"Revert incomplete MULTI/EXEC transaction in AOF file {os.path.basename(incr)}" in loaded.log()


def test_old_single_file_aof_is_upgraded(procs, tmp_path):
    workdir = _dir(tmp_path, "ours")
    with open(workdir / "appendonly.aof", "wb") as handle:
        handle.write(b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nset\r\n$3\r\nold\r\n$3\r\nyes\r\n")
    ours = procs("vermilion", workdir)
    assert ours.client().get("old") == b"yes"
    assert not os.path.exists(workdir / "appendonly.aof")
    assert manifest_files(ours.aof_dir) == [("appendonly.aof", "b"), ("appendonly.aof.1.incr.aof", "i")]
    assert ("Successfully migrated an old-style AOF file (appendonly.aof) into the AOF directory "
            "(appendonlydir).") in ours.log()
    assert "DB loaded from base file appendonly.aof: " in "\n".join(ours.log())


# -- vermilion-check-aof against redis-check-aof ----------------------------------------------------


def _check_outputs(args: list[str], stdin: str = "") -> tuple[tuple[str, int], tuple[str, int]]:
    _need(REDIS_CHECK_AOF, "redis-check-aof")
    theirs = subprocess.run([REDIS_CHECK_AOF, *args], input=stdin, capture_output=True, text=True)
    ours = subprocess.run([*CHECK_AOF, *args], input=stdin, capture_output=True, text=True)
    return (ours.stdout, ours.returncode), (theirs.stdout, theirs.returncode)


AOF_SAMPLES = {
    "valid.aof": b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nset\r\n$1\r\na\r\n$1\r\n1\r\n",
    "truncated.aof": b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nset\r\n$1\r\na\r\n$1",
    "short_bulk.aof": b"*3\r\n$3\r\nset\r\n$1\r\na\r\n$10\r\n1\r\n",
    "garbage.aof": b"garbage\r\n",
    "bad_newline.aof": b"*1\r\n$4\r\nPINGxx",
    "open_multi.aof": b"*1\r\n$5\r\nMULTI\r\n*1\r\n$4\r\nPING\r\n",
    "nested_multi.aof": b"*1\r\n$5\r\nMULTI\r\n*1\r\n$5\r\nMULTI\r\n",
    "lone_exec.aof": b"*1\r\n$4\r\nEXEC\r\n",
    "annotated.aof": b"#TS:100\r\n*1\r\n$4\r\nPING\r\n#TS:200\r\n*1\r\n$4\r\nPING\r\n",
    "empty.aof": b"",
}


@pytest.mark.parametrize("sample", sorted(AOF_SAMPLES))
def test_check_aof_reports_like_redis(tmp_path, sample, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with open(sample, "wb") as handle:
        handle.write(AOF_SAMPLES[sample])
    ours, theirs = _check_outputs([sample])
    assert ours == theirs


def test_check_aof_fix_truncates_after_asking(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("ours.aof", "theirs.aof", "kept.aof"):
        with open(name, "wb") as handle:
            handle.write(AOF_SAMPLES["truncated.aof"])
    _need(REDIS_CHECK_AOF, "redis-check-aof")
    theirs = subprocess.run([REDIS_CHECK_AOF, "--fix", "theirs.aof"], input="y\n", capture_output=True, text=True)
    ours = subprocess.run([*CHECK_AOF, "--fix", "ours.aof"], input="y\n", capture_output=True, text=True)
    assert (ours.stdout.replace("ours.aof", "X"), ours.returncode) == (theirs.stdout.replace("theirs.aof", "X"), 0)
    assert open("ours.aof", "rb").read() == open("theirs.aof", "rb").read() == AOF_SAMPLES["valid.aof"][:23]
    declined = subprocess.run([*CHECK_AOF, "--fix", "kept.aof"], input="n\n", capture_output=True, text=True)
    assert declined.returncode == 1 and declined.stdout.endswith("Continue? [y/N]: Aborting...\n")
    assert open("kept.aof", "rb").read() == AOF_SAMPLES["truncated.aof"]
    for name in ("ours-ts.aof", "theirs-ts.aof"):
        with open(name, "wb") as handle:
            handle.write(AOF_SAMPLES["annotated.aof"])
    theirs = subprocess.run([REDIS_CHECK_AOF, "--truncate-to-timestamp", "150", "theirs-ts.aof"],
                            capture_output=True, text=True)
    ours = subprocess.run([*CHECK_AOF, "--truncate-to-timestamp", "150", "ours-ts.aof"],
                          capture_output=True, text=True)
    assert ours.stdout.replace("ours-ts", "X") == theirs.stdout.replace("theirs-ts", "X")
    assert ours.returncode == theirs.returncode == 0
    assert open("ours-ts.aof", "rb").read() == open("theirs-ts.aof", "rb").read() == AOF_SAMPLES["annotated.aof"][:23]
    ours, theirs = _check_outputs([])
    usage = re.compile(r"Usage: \S+ \[--fix\|--truncate-to-timestamp \$timestamp\] <file.manifest\|file.aof>\n")
    assert usage.fullmatch(ours[0]) and usage.fullmatch(theirs[0])
    assert ours[1] == theirs[1] == 1


def test_check_aof_on_manifests_of_both_servers(procs, tmp_path):
    for which in ("vermilion", "redis"):
        proc = procs(which, _dir(tmp_path, which))
        client = proc.client()
        client.set("a", "1")
        client.rpush("l", "x", "y")
        proc.kill()
        manifest = os.path.join(proc.aof_dir, "appendonly.aof.manifest")
        ours, theirs = _check_outputs([manifest])
        assert ours == theirs
        assert ours[1] == 0 and ours[0].endswith("All AOF files and manifest are valid\n")


def test_failed_aof_write_refuses_writes_until_one_succeeds(tmp_path):
    """Redis's DISK_ERROR_TYPE_AOF under appendfsync everysec: the write that failed was already
    acknowledged, later writes (and PING) get MISCONF with strerror, reads still work, and the
    cron's retry that succeeds lifts it."""
    import time as _time

    from vermilion.testing import run_in_server, start_server

    srv = start_server(appendfsync="everysec", dir=str(tmp_path))
    try:
        client = redis.Redis(port=srv.port)
        client.set("before", "1")
        client.config_set("appendonly", "yes")
        deadline = _time.time() + 10
        while _time.time() < deadline:
            info = client.info("persistence")
            if info["aof_enabled"] and not info["aof_rewrite_in_progress"]:
                break
            _time.sleep(0.05)
        aof = srv.aof
        saved_fd = run_in_server(srv, lambda: os.dup(aof.fd))
        run_in_server(srv, lambda: os.close(aof.fd))
        assert client.set("acknowledged", "1")
        with pytest.raises(redis.ResponseError) as refused:
            client.set("refused", "1")
        assert str(refused.value) == "MISCONF Errors writing to the AOF file: Bad file descriptor"
        with pytest.raises(redis.ResponseError):
            client.ping()
        assert client.get("before") == b"1"
        assert client.info("persistence")["aof_last_write_status"] == "err"
        run_in_server(srv, lambda: os.dup2(saved_fd, aof.fd))
        deadline = _time.time() + 5
        while _time.time() < deadline:
            try:
                client.set("after", "1")
                break
            except redis.ResponseError:
                _time.sleep(0.05)
        assert client.get("after") == b"1"
        assert client.info("persistence")["aof_last_write_status"] == "ok"
        client.close()
    finally:
        srv.stop()
