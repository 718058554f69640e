"""Scripts and functions while used memory is over maxmemory (Redis 7.0's evalGetCommandFlags,
scriptPrepareForRun and scriptVerifyOOM).

Differential against real Redis 7.0 (exact reply bytes, and the command and error statistics).
"Over the limit" is ``maxmemory 1`` under ``noeviction`` on both servers: every server is then
over it whatever its own memory figures are.
"""

from __future__ import annotations

import hashlib

import pytest
import redis

from tests.resp_raw import RawConnection

OOM = b"-OOM command not allowed when used memory > 'maxmemory'.\r\n"
NO_ALLOW_OOM = (
    b"-OOM allow-oom flag is not set on the script, can not run it when used memory > "
    b"'maxmemory'\r\n"
)

LIBRARY = """#!lua name=oomlib
redis.register_function('w', function(k) return redis.call('set', k[1], 'x') end)
redis.register_function{function_name='ao', callback=function(k)
  return redis.call('set', k[1], 'y') end, flags={'allow-oom'}}
redis.register_function{function_name='nw', callback=function(k)
  return redis.call('get', k[1]) end, flags={'no-writes'}}
redis.register_function{function_name='nwset', callback=function(k)
  return redis.call('set', k[1], 'z') end, flags={'no-writes'}}
"""

SHEBANG_WRITE = "#!lua\nreturn redis.call('set','s','1')"


def _both(diff, *args) -> None:
    for conn in (diff.ours, diff.theirs):
        conn.call(*args)


@pytest.fixture
def limited(diff):
    """The diff pair, with a library and a cached shebang script loaded, then maxmemory 1 (so
    both servers are over the limit); limits, scripts and functions undone afterwards."""
    _both(diff, "SCRIPT", "FLUSH")
    _both(diff, "FUNCTION", "FLUSH")
    diff.check("SET", "k", "v")
    diff.check("FUNCTION", "LOAD", LIBRARY)
    diff.check("SCRIPT", "LOAD", SHEBANG_WRITE)
    _both(diff, "CONFIG", "SET", "maxmemory-policy", "noeviction")
    _both(diff, "CONFIG", "SET", "maxmemory", "1")
    _both(diff, "CONFIG", "RESETSTAT")
    try:
        yield diff
    finally:
        _both(diff, "CONFIG", "SET", "maxmemory", "0")
        _both(diff, "CONFIG", "SET", "maxmemory-policy", "noeviction")
        _both(diff, "SCRIPT", "FLUSH")
        _both(diff, "FUNCTION", "FLUSH")


def _statistics(conn, names: tuple[str, ...]) -> dict:
    """calls / rejected_calls / failed_calls of ``names`` and the error counts (no timings)."""
    stats = {}
    for line in conn.call("INFO", "commandstats").decode().splitlines():
        name, _, fields = line.partition(":")
        if name.removeprefix("cmdstat_") in names:
            values = dict(field.split("=") for field in fields.split(","))
            stats[name] = (values["calls"], values["rejected_calls"], values["failed_calls"])
    for line in conn.call("INFO", "errorstats").decode().splitlines():
        if line.startswith("errorstat_"):
            stats[line.split(":")[0]] = line.split(":")[1]
    return stats


def _same_statistics(diff, *names: str) -> None:
    ours = _statistics(diff.ours, names)
    theirs = _statistics(diff.theirs, names)
    assert ours == theirs


# -- scripts without a shebang ------------------------------------------------------------------


def test_legacy_eval_write_call_raises_oom(limited):
    reply = limited.check("EVAL", "return redis.call('set','a','b')", "0")
    sha = hashlib.sha1(b"return redis.call('set','a','b')").hexdigest().encode()
    assert reply == (b"-OOM command not allowed when used memory > 'maxmemory'. script: " + sha
                     + b", on @user_script:1.\r\n")
    limited.check("EXISTS", "a")
    _same_statistics(limited, "eval", "set")


def test_legacy_eval_pcall_returns_the_oom_error(limited):
    assert limited.check("EVAL", "return redis.pcall('set','a','b')", "0") == OOM
    limited.check("EVAL", "local r = redis.pcall('set','a','b') return r['err']", "0")
    limited.check("EVAL", "local r = redis.pcall('set','a','b') return type(r)", "0")
    # Swallowed: the script succeeds, the error still counts once.
    limited.check("EVAL", "redis.pcall('set','a','b') return 1", "0")
    _same_statistics(limited, "eval", "set")


def test_legacy_eval_reads_and_non_denyoom_writes_run(limited):
    assert limited.check("EVAL", "return redis.call('get','k')", "0") == b"$1\r\nv\r\n"
    limited.check("EVAL", "return redis.call('del','nosuch')", "0")
    limited.check("EVAL_RO", "return redis.call('get','k')", "0")
    _same_statistics(limited, "eval", "eval_ro", "get", "del")


def test_legacy_eval_denyoom_after_the_first_write_runs(limited):
    """Only the first write is checked: a script that already changed data cannot stop halfway."""
    assert limited.check(
        "EVAL", "redis.call('del','nosuch') return redis.call('set','a','b')", "0") == b"+OK\r\n"
    limited.check("GET", "a")
    limited.check("EVAL", "redis.pcall('set','c','d') redis.call('del','c') "
                          "return redis.call('set','c','e')", "0")
    limited.check("GET", "c")
    _same_statistics(limited, "eval", "set", "del")


def test_legacy_eval_write_in_read_only_script_fails_before_oom(limited):
    limited.check("EVAL_RO", "return redis.call('set','k','z')", "0")
    limited.check("EVAL", "return redis.call('set','a')", "0")
    _same_statistics(limited, "eval", "eval_ro", "set")


def test_evalsha_of_a_legacy_script(limited):
    body = "return redis.call('set','a','b')"
    sha = limited.check("SCRIPT", "LOAD", body).split(b"\r\n")[1].decode()
    limited.check("EVALSHA", sha, "0")
    limited.check("EVALSHA_RO", sha, "0")
    limited.check("EVALSHA", sha.upper(), "0")


# -- scripts with a shebang and functions: decided up front ------------------------------------


@pytest.mark.parametrize("command", ["EVAL", "EVAL_RO"])
def test_shebang_script_refused_up_front(limited, command):
    assert limited.check(command, "#!lua\nreturn 1", "0") == OOM
    assert limited.check(command, "#!lua flags=allow-stale\nreturn 1", "0") == OOM
    _same_statistics(limited, command.lower())


def test_cached_shebang_script_refused_up_front_by_evalsha(limited):
    sha = hashlib.sha1(SHEBANG_WRITE.encode()).hexdigest()
    assert limited.check("EVALSHA", sha, "0") == OOM
    assert limited.check("EVALSHA_RO", sha.upper(), "0") == OOM
    # Not cached: EVALSHA keeps its own flags and answers NOSCRIPT.
    limited.check("EVALSHA", "f" * 40, "0")
    limited.check("EVALSHA", "ff", "0")
    _same_statistics(limited, "evalsha", "evalsha_ro")


def test_allow_oom_flag(limited):
    assert limited.check("EVAL", "#!lua flags=allow-oom\nreturn redis.call('set','a','c')",
                         "0") == b"+OK\r\n"
    limited.check("GET", "a")
    limited.check("EVAL_RO", "#!lua flags=allow-oom\nreturn 1", "0")
    limited.check("EVAL", "#!lua flags=allow-oom\nredis.call('set','x','1') "
                          "return redis.call('set','y','2')", "0")
    _same_statistics(limited, "eval", "eval_ro", "set")


def test_no_writes_flag(limited):
    assert limited.check("EVAL", "#!lua flags=no-writes\nreturn redis.call('get','k')",
                         "0") == b"$1\r\nv\r\n"
    limited.check("EVAL_RO", "#!lua flags=no-writes\nreturn redis.call('get','k')", "0")
    limited.check("EVAL", "#!lua flags=no-writes\nreturn redis.call('set','k','z')", "0")
    limited.check("EVAL", "#!lua flags=no-writes,allow-oom\nreturn redis.call('get','k')", "0")
    _same_statistics(limited, "eval", "eval_ro", "set", "get")


@pytest.mark.parametrize("command", ["FCALL", "FCALL_RO"])
@pytest.mark.parametrize("function", ["w", "ao", "nw", "nwset"])
def test_fcall(limited, command, function):
    limited.check(command, function, "1", "k")
    limited.check("GET", "k")
    _same_statistics(limited, command.lower(), "set", "get")


def test_fcall_of_an_unknown_function(limited):
    limited.check("FCALL", "nosuch", "0")
    limited.check("FCALL_RO", "nosuch", "0")


def test_bad_shebang_keeps_eval_flags(limited):
    limited.check("EVAL", "#!lua flags=nosuch\nreturn 1", "0")
    limited.check("EVAL", "#!python\nreturn 1", "0")


# -- transactions: EXEC records the state its scripts go by -------------------------------------


def _transaction_then_limit(limited, queued: list[tuple]) -> None:
    """Queue ``queued`` in MULTI on both servers while under the limit (maxmemory 0), go over
    it from other connections, and compare the EXEC replies."""
    _both(limited, "CONFIG", "SET", "maxmemory", "0")
    for conn in (limited.ours, limited.theirs):
        assert conn.call("MULTI") == b"+OK\r\n"
        for args in queued:
            assert conn.call(*args) == b"+QUEUED\r\n"
        _over_the_limit(conn)
    limited.check("EXEC")


def _over_the_limit(conn) -> None:
    """maxmemory 1 on the server of ``conn``, from another connection (``conn`` may be in MULTI)."""
    other = RawConnection(conn.sock.getpeername()[1])
    try:
        assert other.call("CONFIG", "SET", "maxmemory", "1") == b"+OK\r\n"
    finally:
        other.close()


def test_exec_runs_a_legacy_script_that_then_meets_oom(limited):
    _transaction_then_limit(limited, [("EVAL", "return redis.call('set','m','1')", "0"),
                                      ("EVAL", "return redis.call('get','k')", "0")])
    limited.check("EXISTS", "m")


def test_exec_aborts_a_transaction_with_a_shebang_write_script(limited):
    _transaction_then_limit(limited, [("EVAL", "#!lua\nreturn redis.call('set','m','1')", "0")])


@pytest.mark.parametrize("function", ["w", "ao", "nw"])
def test_exec_of_a_function_call(limited, function):
    _transaction_then_limit(limited, [("FCALL", function, "1", "k"), ("GET", "k")])


def test_exec_of_a_cached_script(limited):
    sha = hashlib.sha1(SHEBANG_WRITE.encode()).hexdigest()
    _transaction_then_limit(limited, [("EVALSHA", sha, "0")])
    _transaction_then_limit(limited, [("EVALSHA", sha.upper(), "0"), ("EVALSHA", "0" * 40, "0")])
    _same_statistics(limited, "evalsha", "exec")


def test_exec_runs_scripts_normally_under_the_limit(limited):
    """Memory under the limit when EXEC starts: the scripts it runs are not held back."""
    _both(limited, "CONFIG", "SET", "maxmemory", "0")
    for conn in (limited.ours, limited.theirs):
        conn.call("MULTI")
        conn.call("EVAL", "return redis.call('set','m','1')", "0")
        conn.call("EVAL", SHEBANG_WRITE, "0")
        with redis.Redis(port=conn.sock.getpeername()[1]) as other:
            other.config_set("maxmemory", 1_000_000_000)
    assert limited.check("EXEC") == b"*2\r\n+OK\r\n+OK\r\n"


def test_script_loaded_in_the_transaction_is_refused_when_it_starts(limited):
    body = "#!lua\nreturn redis.call('set','n','1')"
    sha = hashlib.sha1(body.encode()).hexdigest()
    _both(limited, "SCRIPT", "FLUSH")
    _transaction_then_limit(limited, [("SCRIPT", "LOAD", body), ("EVALSHA", sha, "0")])
    _both(limited, "CONFIG", "SET", "maxmemory", "0")
    _both(limited, "SCRIPT", "FLUSH")
    for flags in ("no-writes", "allow-oom"):
        body = f"#!lua flags={flags}\nreturn redis.call('get','k')"
        sha = hashlib.sha1(body.encode()).hexdigest()
        _transaction_then_limit(limited, [("SCRIPT", "LOAD", body), ("EVALSHA", sha, "0")])
    _same_statistics(limited, "evalsha", "exec")


def test_oom_text_of_a_refusal_at_start(limited):
    """The words of the start refusal, checked outright once (the test above compares them)."""
    body = "#!lua\nreturn 1"
    sha = hashlib.sha1(body.encode()).hexdigest()
    _both(limited, "SCRIPT", "FLUSH")
    _both(limited, "CONFIG", "SET", "maxmemory", "0")
    conn = limited.ours
    conn.call("MULTI")
    conn.call("SCRIPT", "LOAD", body)
    conn.call("EVALSHA", sha, "0")
    _over_the_limit(conn)
    assert conn.call("EXEC") == b"*2\r\n$40\r\n" + sha.encode() + b"\r\n" + NO_ALLOW_OOM


# -- eviction comes first -------------------------------------------------------------------------


def test_scripts_run_when_eviction_frees_memory(diff):
    """Over the limit with keys to evict: EVAL evicts before it runs, so its writes succeed."""
    bodies = ["return redis.call('set','new','v')", "#!lua\nreturn redis.call('set','new2','v')",
              "return redis.call('set','new3','v')"]
    try:
        for conn in (diff.ours, diff.theirs):
            client = redis.Redis(port=conn.sock.getpeername()[1])
            try:
                pipe = client.pipeline(transaction=False)
                for index in range(3000):
                    pipe.set(f"key:{index}", "x" * 200)
                pipe.execute()
                used = client.info("memory")["used_memory"]
                client.config_set("maxmemory-policy", "allkeys-random")
                client.config_set("maxmemory", used - 150_000)
            finally:
                client.close()
        for body in bodies:
            assert diff.check("EVAL", body, "0") == b"+OK\r\n"
        for conn in (diff.ours, diff.theirs):
            assert int(conn.call("DBSIZE")[1:]) < 3003
    finally:
        _both(diff, "CONFIG", "SET", "maxmemory", "0")
        _both(diff, "CONFIG", "SET", "maxmemory-policy", "noeviction")
        _both(diff, "FLUSHALL")
