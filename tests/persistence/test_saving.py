"""SAVE, BGSAVE, LASTSAVE, save points, loading at startup, the shutdown save, FLUSHALL's save,
DEBUG RELOAD, MISCONF and INFO persistence, through the wire, against real Redis where both can
run the same script.

Servers here are subprocesses with a directory of their own (``--dir``): ``dir`` is the working
directory of the process, which an in-process server would change for the whole test session.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

import pytest
import redis

from tests.conftest import IN_CI, free_port, wait_for_port
from tests.persistence import dataset
from tests.resp_raw import RawConnection, encode_command

REDIS = shutil.which("redis-server")
VERMILION = [sys.executable, "-m", "vermilion"]
LOG_PREFIX = re.compile(r"^\d+:[CMSX] \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d\.\d{3} [.*#-] ", re.M)


def _need_redis() -> None:
    if REDIS is None:
        if IN_CI:
            pytest.fail("redis-server is not installed")
        pytest.skip("redis-server is not installed")


class Proc:
    """A server subprocess in ``workdir`` logging to ``workdir/log``."""

    def __init__(self, which: str, workdir, *args: str, wait: bool = True) -> None:
        if which == "redis":
            _need_redis()
        self.which = which
        self.workdir = workdir
        self.logfile = os.path.join(workdir, f"{which}.log")
        base = VERMILION if which == "vermilion" else [REDIS]
        # The machine is shared: a free port can be taken before the server binds it; retry then.
        for _attempt in range(3):
            self.port = free_port()
            options = ["--port", str(self.port), "--dir", str(workdir), "--logfile", self.logfile,
                       "--daemonize", "no", "--enable-debug-command", "yes", *args]
            if "--save" not in args:
                options += ["--save", ""]
            self.proc = subprocess.Popen([*base, *options], cwd=workdir,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if not wait or self._ready():
                return
        raise RuntimeError(f"{which} did not start: {self.log()[-3:]}")

    def _ready(self, timeout: float = 30.0) -> bool:
        """True once this process logged that it accepts connections on its port; False when it
        exited first (its port was taken)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            messages = self.log()
            mine = [i for i, m in enumerate(messages) if f"port={self.port}." in m]
            if mine and any(m.startswith("Ready to accept connections") for m in messages[mine[-1]:]):
                wait_for_port(self.port)
                return True
            if self.proc.poll() is not None:
                return False
            time.sleep(0.02)
        raise TimeoutError(f"{self.which} not ready on port {self.port}")

    def client(self, db: int = 0) -> redis.Redis:
        return redis.Redis(port=self.port, db=db)

    def raw(self) -> RawConnection:
        return RawConnection(self.port)

    def log(self) -> list[str]:
        """Log messages without pid and time."""
        try:
            with open(self.logfile, encoding="utf-8", errors="replace") as handle:
                text = handle.read()
        except FileNotFoundError:
            return []
        return [LOG_PREFIX.sub("", line) for line in text.splitlines() if LOG_PREFIX.match(line)]

    def wait_log(self, message: str, timeout: float = 15.0) -> None:
        """Wait for a log message that starts with ``message``."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if any(line.startswith(message) for line in self.log()):
                return
            time.sleep(0.05)
        raise AssertionError(f"{self.which} never logged {message!r}: {self.log()}")

    def wait_exit(self, timeout: float = 15.0) -> int:
        return self.proc.wait(timeout)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def procs():
    started: list[Proc] = []

    def start(which: str, workdir, *args: str, wait: bool = True) -> Proc:
        proc = Proc(which, workdir, *args, wait=wait)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.stop()


def _dir(tmp_path, name: str):
    path = tmp_path / name
    path.mkdir()
    return path


def _shutdown(server: Proc, *options: str) -> None:
    """SHUTDOWN [options] that succeeds: Redis closes the connection without a reply."""
    conn = server.raw()
    conn.send_raw(encode_command(("SHUTDOWN", *options)))
    assert conn.closed_by_peer(15)
    assert server.wait_exit() == 0


def _wait_bgsave_done(client: redis.Redis, timeout: float = 30.0) -> dict:
    deadline = time.time() + timeout
    while time.time() < deadline:
        info = client.info("persistence")
        if not info["rdb_bgsave_in_progress"]:
            return info
        time.sleep(0.02)
    raise AssertionError("BGSAVE did not finish")


# -- SAVE / BGSAVE / LASTSAVE replies --------------------------------------------------------


def test_save_bgsave_lastsave_replies_match_redis(tmp_path, procs):
    ours = procs("vermilion", _dir(tmp_path, "ours"))
    theirs = procs("redis", _dir(tmp_path, "theirs"))
    a, b = ours.raw(), theirs.raw()
    for args in (
        ("SET", "k", "v"),
        ("SAVE",),
        ("SAVE", "x"),
        ("LASTSAVE", "x"),
        ("BGSAVE", "x"),
        ("BGSAVE", "SCHEDULE", "x"),
        ("BGSAVE", "NOW"),
    ):
        assert a.call(*args) == b.call(*args), args
    # Nothing else running: SCHEDULE starts at once.
    assert a.call("BGSAVE", "SCHEDULE") == b.call("BGSAVE", "SCHEDULE") == b"+Background saving started\r\n"
    for server in (ours, theirs):
        _wait_bgsave_done(server.client())
    assert a.call("BGSAVE") == b.call("BGSAVE") == b"+Background saving started\r\n"
    for server in (ours, theirs):
        info = _wait_bgsave_done(server.client())
        assert info["rdb_saves"] == 3 and info["rdb_last_bgsave_status"] == "ok"
        assert info["rdb_changes_since_last_save"] == 0 and info["rdb_last_bgsave_time_sec"] >= 0
        assert abs(server.client().lastsave().timestamp() - time.time()) < 5
        assert os.path.exists(os.path.join(server.workdir, "dump.rdb"))
        assert not [name for name in os.listdir(server.workdir) if name.startswith("temp-")]
    messages = ours.log()
    assert "DB saved on disk" in messages
    assert any(m.startswith("Background saving started by pid ") for m in messages)
    assert "Background saving terminated with success" in messages


def test_bgsave_in_progress_errors_match_redis(tmp_path, procs):
    # rdb-key-save-delay (microseconds per key) keeps both servers' background saves running.
    args = ("--rdb-key-save-delay", "200000")
    ours = procs("vermilion", _dir(tmp_path, "ours"), *args)
    theirs = procs("redis", _dir(tmp_path, "theirs"), *args)
    a, b = ours.raw(), theirs.raw()
    for conn in (a, b):
        for i in range(50):
            conn.call("SET", f"k{i}", "v")
    for args in (("BGSAVE",), ("BGSAVE",), ("BGSAVE", "SCHEDULE"), ("SAVE",), ("SET", "x", "1")):
        assert a.call(*args) == b.call(*args), args
    for server in (ours, theirs):
        info = server.client().info("persistence")
        assert info["rdb_bgsave_in_progress"] == 1
        assert info["rdb_current_bgsave_time_sec"] >= 0
        assert info["current_save_keys_total"] == 50
    # FLUSHALL kills a running BGSAVE (by SIGUSR1 in Redis: not an error).
    assert a.call("FLUSHALL") == b.call("FLUSHALL")
    for server in (ours, theirs):
        server.wait_log("Background saving terminated by signal 10")
        info = _wait_bgsave_done(server.client())
        assert info["rdb_last_bgsave_status"] == "ok"
        assert not [name for name in os.listdir(server.workdir) if name.startswith("temp-")]


def test_bgsave_during_aof_rewrite_matches_redis(tmp_path, procs):
    args = ("--rdb-key-save-delay", "20000")
    ours = procs("vermilion", _dir(tmp_path, "ours"), *args)
    theirs = procs("redis", _dir(tmp_path, "theirs"), *args)
    a, b = ours.raw(), theirs.raw()
    for conn in (a, b):
        for i in range(50):
            conn.call("SET", f"k{i}", "v")
    for args in (("BGREWRITEAOF",), ("BGSAVE",), ("BGSAVE", "SCHEDULE"), ("SAVE",)):
        assert a.call(*args) == b.call(*args), args
    for server in (ours, theirs):
        # The scheduled BGSAVE starts once the rewrite is done.
        server.wait_log("Background saving terminated with success", timeout=30)
        assert server.client().info("persistence")["rdb_saves"] == 2


def test_bgsave_inside_multi_is_scheduled(tmp_path, procs):
    ours = procs("vermilion", _dir(tmp_path, "ours"))
    theirs = procs("redis", _dir(tmp_path, "theirs"))
    a, b = ours.raw(), theirs.raw()
    for args in (("MULTI",), ("BGSAVE",), ("EXEC",), ("MULTI",), ("SAVE",), ("EXEC",)):
        assert a.call(*args) == b.call(*args), args
    for server in (ours, theirs):
        # The scheduled save starts from the cron.
        server.wait_log("Background saving terminated with success")


# -- the background snapshot holds the data as it was at BGSAVE ------------------------------


def _populate(client: redis.Redis, count: int) -> None:
    pipe = client.pipeline(transaction=False)
    for i in range(count):
        kind = i % 6
        key = f"key:{i}"
        if kind == 0:
            pipe.set(key, f"value-{i}")
        elif kind == 1:
            pipe.set(key, i)
        elif kind == 2:
            pipe.rpush(key, "a", "b", i)
        elif kind == 3:
            pipe.hset(key, mapping={"f": i, "g": "x"})
        elif kind == 4:
            pipe.zadd(key, {"m": i, "n": -i})
        else:
            pipe.set(key, "ttl", ex=100_000 + i)
    pipe.execute()


def _snapshot_of(client: redis.Redis, dbs) -> dict:
    out = {}
    for db in dbs:
        client.select(db)
        for key in client.keys("*"):
            ttl = client.pttl(key)
            out[(db, key)] = (client.dump(key), ttl > 0)
    client.select(0)
    return out


def _contents_by_db(client: redis.Redis, dbs=(0, 1, 3)) -> dict:
    """Every key's type, value (DUMP, or sorted members where Redis's order is random) and
    whether it has a TTL."""
    out = {}
    for db in dbs:
        client.select(db)
        for key in client.keys("*"):
            out[(db, key)] = (client.type(key), dataset.contents(client, key), client.pttl(key) > 0)
    client.select(0)
    return out


def _hammer(client: redis.Redis, count: int) -> None:
    """Every kind of write on keys the snapshot still has to write."""
    pipe = client.pipeline(transaction=False)
    for i in range(count - 1, -1, -1):
        key = f"key:{i}"
        step = i % 11
        if step == 0:
            pipe.set(key, "overwritten")
        elif step == 1:
            pipe.delete(key)
        elif step == 2:
            pipe.append(key, "-appended")
        elif step == 3:
            pipe.rpush(key, "pushed")
        elif step == 4:
            pipe.expire(key, 5)
        elif step == 5:
            pipe.persist(key)
        elif step == 6:
            pipe.rename(key, f"renamed:{i}")
        elif step == 7:
            pipe.move(key, 2)
        elif step == 8:
            pipe.copy(key, f"key:{i - 1}", destination_db=2, replace=True)
        elif step == 9:
            pipe.incr(f"new:{i}")
        else:
            pipe.unlink(key)
    # Some writes hit keys of another type (WRONGTYPE): what matters is what the others did.
    pipe.execute(raise_on_error=False)
    tx = client.pipeline(transaction=True)
    tx.set("key:12", "in-multi").delete("key:13")
    tx.execute()
    client.eval("redis.call('set', KEYS[1], 'from-lua'); return redis.call('del', KEYS[2])", 2,
                "key:24", "key:25")
    client.eval("return redis.call('lpush', 'key:38', 'undeclared')", 0)
    client.execute_command("SELECT", 0)
    client.execute_command("SWAPDB", 3, 4)
    client.execute_command("FLUSHDB")


def test_bgsave_writes_the_data_as_it_was_at_its_start(tmp_path, procs):
    _need_redis()
    count = 3000
    ours = procs("vermilion", _dir(tmp_path, "ours"), "--rdb-key-save-delay", "1000")
    client = ours.client()
    _populate(client, count)
    for db, n in ((2, 30), (3, 20), (4, 10)):
        client.select(db)
        for i in range(n):
            client.set(f"key:{i}", f"db{db}-{i}")
    client.select(0)
    before = _snapshot_of(client, range(5))
    assert client.bgsave()
    _hammer(client, count)
    assert client.info("persistence")["rdb_bgsave_in_progress"] == 1, "writes came too late"
    assert _wait_bgsave_done(client)["rdb_last_bgsave_status"] == "ok"
    # The file against real Redis: every key with its value and TTL of BGSAVE time, no other key.
    theirs_dir = _dir(tmp_path, "theirs")
    shutil.copy(os.path.join(ours.workdir, "dump.rdb"), theirs_dir / "dump.rdb")
    theirs = procs("redis", theirs_dir)
    assert _snapshot_of(theirs.client(), range(5)) == before
    # And against Vermilion loading it.
    again_dir = _dir(tmp_path, "again")
    shutil.copy(os.path.join(ours.workdir, "dump.rdb"), again_dir / "dump.rdb")
    again = procs("vermilion", again_dir)
    assert _snapshot_of(again.client(), range(5)) == before


def test_blocked_client_served_during_bgsave(tmp_path, procs):
    ours = procs("vermilion", _dir(tmp_path, "ours"), "--rdb-key-save-delay", "5000")
    client = ours.client()
    for i in range(300):
        client.rpush(f"list:{i}", "x")
    before = _snapshot_of(client, [0])
    replies = []

    def blocked_move() -> None:
        replies.append(redis.Redis(port=ours.port).blmove("src", "list:250", 10, "LEFT", "LEFT"))

    thread = threading.Thread(target=blocked_move)
    thread.start()
    deadline = time.time() + 10
    while client.info("clients")["blocked_clients"] != 1 and time.time() < deadline:
        time.sleep(0.01)
    assert client.bgsave()
    # Served after the push, BLMOVE writes its destination, which the snapshot has not reached.
    client.lpush("src", "moved")
    thread.join(10)
    assert replies == [b"moved"]
    assert client.lrange("list:250", 0, -1) == [b"moved", b"x"]
    _wait_bgsave_done(client)
    again_dir = _dir(tmp_path, "again")
    shutil.copy(os.path.join(ours.workdir, "dump.rdb"), again_dir / "dump.rdb")
    again = procs("vermilion", again_dir)
    assert _snapshot_of(again.client(), [0]) == before


# -- every type round trips through our file into real Redis --------------------------------


def test_real_redis_loads_what_bgsave_wrote(tmp_path, procs):
    ours = procs("vermilion", _dir(tmp_path, "ours"))
    dataset.build(ours.client())
    assert ours.client().bgsave()
    _wait_bgsave_done(ours.client())
    theirs_dir = _dir(tmp_path, "theirs")
    shutil.copy(os.path.join(ours.workdir, "dump.rdb"), theirs_dir / "dump.rdb")
    theirs = procs("redis", theirs_dir)
    expected = _contents_by_db(ours.client())
    assert len(expected) > 20
    assert _contents_by_db(theirs.client()) == expected


# -- loading at startup ---------------------------------------------------------------------------


def test_startup_loads_redis_file_with_redis_log_lines(tmp_path, procs):
    theirs = procs("redis", _dir(tmp_path, "theirs"))
    client = theirs.client()
    dataset.build(client)
    # Kept in the file although expired (only their loading drops them): no active expiry.
    client.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    client.set("short", "lived", px=1)
    client.set("short2", "lived", px=1)
    time.sleep(0.05)
    client.save()
    ours_dir = _dir(tmp_path, "ours")
    shutil.copy(os.path.join(theirs.workdir, "dump.rdb"), ours_dir / "dump.rdb")
    ours = procs("vermilion", ours_dir)
    assert _contents_by_db(ours.client()) == _contents_by_db(client)
    messages = ours.log()
    total = sum(len(keys) for keys in dataset.keys_by_db(client).values())
    assert f"Done loading RDB, keys loaded: {total}, keys expired: 2." in messages
    assert "Loading RDB produced by version 7.0.15" in messages
    assert any(re.fullmatch(r"DB loaded from disk: \d+\.\d{3} seconds", m) for m in messages)
    info = ours.client().info("persistence")
    assert info["rdb_last_load_keys_loaded"] == total
    assert info["rdb_last_load_keys_expired"] == 2
    # The lines come between "Server initialized" and "Ready to accept connections", as in Redis.
    order = [m for m in messages if m.startswith(("Server initialized", "Done loading", "Ready"))]
    assert order[0] == "Server initialized" and order[1].startswith("Done loading")


def test_commands_get_loading_while_the_file_loads(tmp_path, procs):
    source = procs("redis", _dir(tmp_path, "source"))
    client = source.client()
    for i in range(1000):
        client.set(f"k{i}", "x" * 100)
    client.save()
    conns = {}
    servers = {}
    for which in ("vermilion", "redis"):
        workdir = _dir(tmp_path, which)
        shutil.copy(os.path.join(source.workdir, "dump.rdb"), workdir / "dump.rdb")
        # key-load-delay (microseconds per key): 1000 keys take two seconds to load; Redis answers
        # clients every loading-process-events-interval-bytes of the file.
        servers[which] = server = procs(which, workdir, "--key-load-delay", "2000",
                                        "--loading-process-events-interval-bytes", "1024", wait=False)
        deadline = time.time() + 30
        while True:
            try:
                conns[which] = RawConnection(server.port)
                break
            except OSError:
                assert time.time() < deadline
                time.sleep(0.01)
    ours, theirs = conns["vermilion"], conns["redis"]
    for args in (("GET", "k1"), ("PING",), ("SET", "x", "1"), ("MULTI",), ("GET", "k1"), ("EXEC",)):
        assert ours.call(*args) == theirs.call(*args), args
    for which, conn in conns.items():
        info = conn.call("INFO", "persistence").decode()
        assert "\r\nloading:1\r\n" in info and "\r\nloading_total_bytes:" in info, which
    for server in servers.values():
        server.wait_log("Ready to accept connections")
    for args in (("GET", "k1"), ("DBSIZE",), ("INFO", "persistence")):
        mine, real = ours.call(*args), theirs.call(*args)
        if args[0] != "INFO":
            assert mine == real, args
        assert b"\r\nloading:0\r\n" in mine or args[0] != "INFO"


@pytest.mark.parametrize("damage", ["truncate", "checksum", "signature"])
def test_corrupt_rdb_refuses_to_start(tmp_path, procs, damage):
    theirs = procs("redis", _dir(tmp_path, "theirs"))
    theirs.client().set("k", "v" * 100)
    theirs.client().save()
    with open(os.path.join(theirs.workdir, "dump.rdb"), "rb") as handle:
        data = bytearray(handle.read())
    if damage == "truncate":
        data = data[: len(data) // 2]
        expected = [r"Short read or OOM loading DB\. Unrecoverable error, aborting now\.",
                    r"Internal error in RDB reading offset 0, function at rdb\.c:\d+ -> "
                    r"Unexpected EOF reading RDB file"]
    elif damage == "checksum":
        data[-1] ^= 0xFF
        expected = [r"Wrong RDB checksum expected: \([0-9a-f]+\) .*\. Aborting now\.",
                    r"Internal error in RDB reading offset 0, function at rdb\.c:\d+ -> RDB CRC error"]
    else:
        data[0:5] = b"RODIS"
        expected = [r"Wrong signature trying to load DB from file",
                    r"Fatal error loading the DB: Invalid argument\. Exiting\."]
    results = {}
    for which in ("vermilion", "redis"):
        workdir = _dir(tmp_path, f"{which}-{damage}")
        (workdir / "dump.rdb").write_bytes(bytes(data))
        proc = procs(which, workdir, wait=False)
        results[which] = proc.wait_exit()
        messages = proc.log()
        for pattern in expected:
            assert any(re.fullmatch(pattern, m) for m in messages), (which, pattern, messages)
    assert results["vermilion"] == results["redis"] == 1


def test_missing_file_starts_empty(tmp_path, procs):
    ours = procs("vermilion", _dir(tmp_path, "ours"))
    assert ours.client().dbsize() == 0
    assert not any(m.startswith(("Done loading", "DB loaded")) for m in ours.log())


# -- shutdown --------------------------------------------------------------------------------------


def test_shutdown_saves_when_save_points_exist(tmp_path, procs):
    workdir = _dir(tmp_path, "ours")
    ours = procs("vermilion", workdir, "--save", "3600 1")
    ours.client().set("survivor", "yes")
    _shutdown(ours)
    messages = ours.log()
    assert messages[-4:] == ["User requested shutdown...", "Saving the final RDB snapshot before exiting.",
                             "DB saved on disk", "Redis is now ready to exit, bye bye..."]
    again = procs("vermilion", workdir, "--save", "3600 1")
    assert again.client().get("survivor") == b"yes"
    # SHUTDOWN NOSAVE: no save.
    again.client().set("lost", "yes")
    _shutdown(again, "NOSAVE")
    third = procs("vermilion", workdir)
    assert third.client().get("lost") is None and third.client().get("survivor") == b"yes"
    # No save points: SHUTDOWN does not save, SHUTDOWN SAVE does.
    third.client().set("lost", "again")
    _shutdown(third)
    fourth = procs("vermilion", workdir)
    assert fourth.client().get("lost") is None
    fourth.client().set("kept", "1")
    _shutdown(fourth, "SAVE")
    assert procs("vermilion", workdir).client().get("kept") == b"1"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signals_save_like_shutdown(tmp_path, procs, signum):
    workdir = _dir(tmp_path, "ours")
    ours = procs("vermilion", workdir, "--save", "3600 1")
    ours.client().set("k", "v")
    ours.proc.send_signal(signum)
    assert ours.wait_exit() == 0
    assert "Saving the final RDB snapshot before exiting." in ours.log()
    assert procs("vermilion", workdir).client().get("k") == b"v"


def test_shutdown_during_bgsave_kills_it_and_saves(tmp_path, procs):
    workdir = _dir(tmp_path, "ours")
    ours = procs("vermilion", workdir, "--save", "3600 1", "--rdb-key-save-delay", "100000")
    client = ours.client()
    for i in range(100):
        client.set(f"k{i}", i)
    assert client.bgsave()
    _shutdown(ours)
    messages = ours.log()
    assert "There is a child saving an .rdb. Killing it!" in messages
    assert messages.index("There is a child saving an .rdb. Killing it!") < messages.index(
        "Saving the final RDB snapshot before exiting.")
    assert not [name for name in os.listdir(workdir) if name.startswith("temp-")]
    assert procs("vermilion", workdir).client().dbsize() == 100


def test_sigterm_follows_shutdown_on_sigterm(tmp_path, procs):
    workdir = _dir(tmp_path, "ours")
    ours = procs("vermilion", workdir, "--save", "3600 1", "--shutdown-on-sigterm", "nosave")
    ours.client().set("k", "v")
    ours.proc.send_signal(signal.SIGTERM)
    assert ours.wait_exit() == 0
    assert "Saving the final RDB snapshot before exiting." not in ours.log()
    assert not os.path.exists(workdir / "dump.rdb")


def test_shutdown_failing_save_keeps_running_like_redis(tmp_path, procs):
    servers = []
    for which in ("vermilion", "redis"):
        workdir = _dir(tmp_path, which)
        servers.append(procs(which, workdir, "--save", "3600 1"))
        # A directory where the file should go: the final rename fails even for root.
        (workdir / "dump.rdb").mkdir()
    ours, theirs = servers
    a, b = ours.raw(), theirs.raw()
    assert a.call("SHUTDOWN") == b.call("SHUTDOWN") == b"-ERR Errors trying to SHUTDOWN. Check logs.\r\n"
    assert a.call("PING") == b.call("PING") == b"+PONG\r\n"
    for server in servers:
        messages = server.log()
        assert "Error trying to save the DB, can't exit." in messages
        assert any(m.startswith("Error moving temp DB file temp-") and m.endswith(": Is a directory")
                   for m in messages), messages
    # FORCE exits anyway.
    _shutdown(ours, "FORCE")
    assert "Error trying to save the DB. Exit anyway." in ours.log()


# -- save points --------------------------------------------------------------------------------


def test_save_point_fires(tmp_path, procs):
    ours = procs("vermilion", _dir(tmp_path, "ours"), "--save", "1 1")
    ours.client().set("k", "v")
    ours.wait_log("1 changes in 1 seconds. Saving...", timeout=10)
    ours.wait_log("Background saving terminated with success")
    assert ours.client().info("persistence")["rdb_changes_since_last_save"] == 0
    # No change since: no new save.
    saves = ours.client().info("persistence")["rdb_saves"]
    time.sleep(2.5)
    assert ours.client().info("persistence")["rdb_saves"] == saves


def test_flushall_saves_with_save_points(tmp_path, procs):
    ours = procs("vermilion", _dir(tmp_path, "ours"), "--save", "3600 1")
    theirs = procs("redis", _dir(tmp_path, "theirs"), "--save", "3600 1")
    for server in (ours, theirs):
        client = server.client()
        client.set("a", 1)
        client.flushall()
        assert "DB saved on disk" in server.log()
        assert client.info("persistence")["rdb_changes_since_last_save"] == 0
        assert client.info("persistence")["rdb_saves"] == 0


# -- MISCONF -------------------------------------------------------------------------------------


def test_misconf_after_failed_bgsave_matches_redis(tmp_path, procs):
    servers = []
    for which in ("vermilion", "redis"):
        workdir = _dir(tmp_path, which)
        servers.append(procs(which, workdir, "--save", "3600 1"))
        (workdir / "dump.rdb").mkdir()
    ours, theirs = servers
    a, b = ours.raw(), theirs.raw()
    # A transaction queued before the failure: its EXEC is refused and the transaction dropped.
    queued_ours, queued_theirs = ours.raw(), theirs.raw()
    for args in (("MULTI",), ("SET", "q", "1")):
        assert queued_ours.call(*args) == queued_theirs.call(*args)
    assert a.call("SET", "k", "v") == b.call("SET", "k", "v")
    assert a.call("BGSAVE") == b.call("BGSAVE")
    for server in servers:
        info = _wait_bgsave_done(server.client())
        assert info["rdb_last_bgsave_status"] == "err"
        server.wait_log("Background saving error")
    script = [
        ("SET", "k", "v2"), ("PING",), ("GET", "k"), ("DEL", "k"), ("FLUSHALL",),
        ("MULTI",), ("SET", "a", "1"), ("GET", "a"), ("EXEC",),
        ("MULTI",), ("GET", "a"), ("EXEC",),
        ("EVAL", "return redis.call('set', 'a', 'b')", "0"),
        ("EVAL", "return redis.pcall('set', 'a', 'b')", "0"),
        ("EVAL", "return redis.call('get', 'a')", "0"),
        ("SAVE",),
        ("CONFIG", "SET", "stop-writes-on-bgsave-error", "no"), ("SET", "k", "v3"), ("PING",),
        ("CONFIG", "SET", "stop-writes-on-bgsave-error", "yes"), ("SET", "k", "v4"),
        ("CONFIG", "SET", "save", ""), ("SET", "k", "v5"),
        ("CONFIG", "SET", "save", "3600 1"), ("SET", "k", "v6"),
    ]
    for args in (("EXEC",), ("EXEC",), ("GET", "q")):
        assert queued_ours.call(*args) == queued_theirs.call(*args), args
    for args in script:
        assert a.call(*args) == b.call(*args), args
    # (errorstat_ERR also counts the client library's handshake, which differs.)
    for field in ("errorstat_MISCONF", "errorstat_EXECABORT"):
        assert ours.client().info("errorstats")[field] == theirs.client().info("errorstats")[field]
    # A successful save clears the state.
    for server in servers:
        os.rmdir(os.path.join(server.workdir, "dump.rdb"))
    assert a.call("BGSAVE") == b.call("BGSAVE")
    for server in servers:
        _wait_bgsave_done(server.client())
    for args in (("SET", "k", "v7"), ("PING",)):
        assert a.call(*args) == b.call(*args), args


# -- DEBUG RELOAD ---------------------------------------------------------------------------------


def test_debug_reload_matches_redis(tmp_path, procs):
    ours = procs("vermilion", _dir(tmp_path, "ours"))
    theirs = procs("redis", _dir(tmp_path, "theirs"))
    a, b = ours.raw(), theirs.raw()
    script = [
        ("DEBUG", "RELOAD", "BOGUS"),
        ("DEBUG", "RELOAD", "NOSAVE"),
        ("SET", "a", "1"), ("RPUSH", "l", "x", "y"), ("PEXPIRE", "l", "100000000"),
        ("DEBUG", "RELOAD"), ("GET", "a"), ("LRANGE", "l", "0", "-1"),
        ("SET", "a", "2"), ("SET", "b", "3"),
        ("DEBUG", "RELOAD", "NOSAVE"), ("GET", "a"), ("GET", "b"),
        ("SET", "c", "4"), ("DEBUG", "RELOAD", "NOSAVE", "NOFLUSH", "MERGE"), ("MGET", "a", "b", "c"),
        ("FUNCTION", "LOAD", "#!lua name=lib\nredis.register_function('f', function() return 1 end)"),
        ("DEBUG", "RELOAD"), ("FCALL", "f", "0"),
        ("DEBUG", "RELOAD", "NOFLUSH", "MERGE"),
    ]
    for args in script:
        assert a.call(*args) == b.call(*args), args
    assert "DB reloaded by DEBUG RELOAD" in ours.log()
    for field in ("rdb_last_load_keys_loaded", "rdb_changes_since_last_save", "rdb_saves"):
        assert ours.client().info("persistence")[field] == theirs.client().info("persistence")[field]


# -- INFO persistence -----------------------------------------------------------------------------


def test_info_persistence_fields_match_redis(tmp_path, procs):
    ours = procs("vermilion", _dir(tmp_path, "ours"))
    theirs = procs("redis", _dir(tmp_path, "theirs"))
    mine = ours.client().info("persistence")
    real = theirs.client().info("persistence")
    assert list(mine) == list(real)
    for field in ("loading", "rdb_bgsave_in_progress", "rdb_last_bgsave_status", "rdb_saves",
                  "rdb_last_bgsave_time_sec", "rdb_current_bgsave_time_sec", "current_save_keys_total"):
        assert mine[field] == real[field], field
