"""MULTI / EXEC / DISCARD / WATCH / UNWATCH, differential against real Redis where the reply
bytes are deterministic, plus a WATCH race over TCP."""

from __future__ import annotations

import re
import threading
import time

import pytest
import redis

from tests.resp_raw import RawConnection, encode_command


class Pair:
    """One more connection to each server, for a second client's moves."""

    def __init__(self, diff) -> None:
        self.ours = RawConnection(diff.ours.sock.getpeername()[1])
        self.theirs = RawConnection(diff.theirs.sock.getpeername()[1])

    def check(self, *args) -> bytes:
        ours, theirs = self.ours.call(*args), self.theirs.call(*args)
        assert ours == theirs, f"{args!r}: vermilion {ours!r} != redis {theirs!r}"
        return ours

    def close(self) -> None:
        self.ours.close()
        self.theirs.close()


@pytest.fixture
def other(diff):
    pair = Pair(diff)
    yield pair
    pair.close()


def pipelined(conn: RawConnection, commands: list[tuple]) -> bytes:
    """Send every command in one write and return all the reply bytes."""
    conn.send_raw(b"".join(encode_command(cmd) for cmd in commands))
    return b"".join(conn.read_reply() for _ in commands)


def check_pipelined(diff, commands: list[tuple]) -> bytes:
    ours, theirs = pipelined(diff.ours, commands), pipelined(diff.theirs, commands)
    assert ours == theirs, f"vermilion {ours!r} != redis {theirs!r}"
    return ours


# -- the basics ------------------------------------------------------------------------------------


def test_multi_exec_runs_queued_commands(diff):
    assert diff.check("MULTI") == b"+OK\r\n"
    assert diff.check("SET", "a", "1") == b"+QUEUED\r\n"
    diff.check("INCR", "a")
    diff.check("GET", "a")
    diff.check("GET", "missing")
    diff.check("MGET", "a", "missing")
    assert diff.check("EXEC") == b"*5\r\n+OK\r\n:2\r\n$1\r\n2\r\n$-1\r\n*2\r\n$1\r\n2\r\n$-1\r\n"
    diff.check("GET", "a")
    diff.run(
        """
        MULTI
        EXEC
        MULTI
        PING
        ECHO hi
        EXEC
        """
    )


def test_transaction_is_applied_only_at_exec(diff, other):
    diff.check("MULTI")
    diff.check("SET", "k", "v")
    other.check("GET", "k")
    diff.check("EXEC")
    other.check("GET", "k")


def test_queueing_errors_abort_exec(diff):
    diff.run(
        """
        MULTI
        SET a 1
        NOSUCHCOMMAND x
        SET a
        EXEC
        GET a
        """
    )
    # Arity errors of subcommands and unknown subcommands doom the transaction too.
    diff.run(
        """
        MULTI
        CONFIG GET
        EXEC
        MULTI
        CONFIG NOSUCH
        EXEC
        MULTI
        PUBSUB NUMPAT extra
        EXEC
        """
    )


def test_command_flagged_no_multi_is_refused(diff):
    diff.check("MULTI")
    diff.check("SHUTDOWN")
    diff.check("SET", "a", "1")
    diff.check("EXEC")
    diff.check("EXISTS", "a")


def test_runtime_errors_do_not_stop_the_transaction(diff):
    diff.run(
        """
        SET s notanumber
        MULTI
        INCR s
        SET b 2
        LCS s
        INCRBY b 3
        EXEC
        GET b
        """
    )


def test_state_errors(diff):
    diff.run(
        """
        EXEC
        DISCARD
        MULTI
        MULTI
        WATCH a
        SET a 1
        EXEC
        GET a
        """
    )
    # Neither nested MULTI nor WATCH inside MULTI dooms the transaction.
    diff.run(
        """
        MULTI
        MULTI
        WATCH x
        EXEC
        """
    )


def test_discard(diff):
    diff.run(
        """
        MULTI
        SET a 1
        DISCARD
        GET a
        EXEC
        DISCARD
        MULTI
        NOSUCHCOMMAND
        DISCARD
        MULTI
        SET a 2
        EXEC
        """
    )


def test_unwatch_inside_multi_is_queued(diff):
    diff.run(
        """
        WATCH a
        MULTI
        UNWATCH
        PING
        EXEC
        """
    )


def test_pipelined_transactions(diff):
    check_pipelined(diff, [
        ("MULTI",), ("SET", "a", "1"), ("INCR", "a"), ("EXEC",),
        ("MULTI",), ("INCR", "a"), ("BADCMD",), ("EXEC",),
        ("GET", "a"), ("MULTI",), ("GET", "a"), ("DISCARD",), ("EXEC",),
    ])


def test_resp3_transaction(diff3):
    diff3.run(
        """
        MULTI
        SET a 1
        GET nothing
        INCR a
        EXEC
        """
    )


def test_exec_reply_keeps_nested_replies(diff3):
    diff3.run(
        """
        MULTI
        CONFIG GET maxmemory
        MGET a b
        EXEC
        """
    )


# -- WATCH ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "write",
    [
        ("SET", "w", "2"),
        ("DEL", "w"),
        ("INCR", "w"),
        ("APPEND", "w", "x"),
        ("EXPIRE", "w", "100"),
        ("PERSIST", "w"),
        ("GETDEL", "w"),
        ("GETEX", "w", "EX", "100"),
        ("SETRANGE", "w", "0", "z"),
        ("RENAME", "w", "other"),
        ("RENAME", "src", "w"),
        ("MOVE", "w", "1"),
        ("COPY", "src", "w", "REPLACE"),
        ("FLUSHDB",),
        ("FLUSHALL",),
        ("SWAPDB", "0", "1"),
        ("MSET", "x", "1", "w", "3"),
    ],
)
def test_watch_is_invalidated_by_another_clients_write(diff, other, write):
    other.check("SET", "w", "1")
    other.check("SET", "src", "s")
    diff.check("WATCH", "w")
    other.check(*write)
    diff.check("MULTI")
    diff.check("SET", "result", "done")
    diff.check("EXEC")
    diff.check("EXISTS", "result")


@pytest.mark.parametrize(
    "write",
    [
        ("GET", "w"),
        ("SET", "unrelated", "1"),
        ("EXPIRE", "missing", "10"),
        ("PERSIST", "w"),
        ("SETNX", "w", "x"),
        ("RENAMENX", "src", "w"),
        ("SWAPDB", "2", "3"),
    ],
)
def test_watch_survives_what_does_not_change_the_key(diff, other, write):
    other.check("SET", "w", "1")
    other.check("SET", "src", "s")
    diff.check("WATCH", "w")
    other.check(*write)
    diff.check("MULTI")
    diff.check("SET", "result", "done")
    diff.check("EXEC")
    diff.check("EXISTS", "result")


def test_flush_and_swapdb_spare_watches_on_missing_keys(diff, other):
    diff.check("WATCH", "absent")
    other.check("SET", "present", "1")
    other.check("FLUSHALL")
    other.check("SWAPDB", "0", "1")
    diff.check("MULTI")
    diff.check("PING")
    diff.check("EXEC")


def test_swapdb_bringing_the_key_in_invalidates(diff, other):
    other.check("SELECT", "1")
    other.check("SET", "w", "from-db1")
    diff.check("WATCH", "w")
    other.check("SWAPDB", "0", "1")
    diff.check("MULTI")
    diff.check("PING")
    diff.check("EXEC")


def test_own_write_invalidates_and_exec_unwatches(diff):
    diff.run(
        """
        WATCH k
        SET k 1
        MULTI
        GET k
        EXEC
        MULTI
        GET k
        EXEC
        """
    )


def test_unwatch_and_discard_forget_watches(diff, other):
    diff.check("WATCH", "a")
    diff.check("UNWATCH")
    other.check("SET", "a", "1")
    diff.check("MULTI")
    diff.check("PING")
    diff.check("EXEC")
    diff.check("WATCH", "a")
    diff.check("MULTI")
    diff.check("DISCARD")
    other.check("SET", "a", "2")
    diff.check("MULTI")
    diff.check("PING")
    diff.check("EXEC")


def test_watch_in_other_database(diff, other):
    diff.check("SELECT", "2")
    diff.check("WATCH", "k")
    other.check("SET", "k", "db0")  # same name, other database: not watched
    diff.check("MULTI")
    diff.check("PING")
    diff.check("EXEC")
    diff.check("WATCH", "k")
    other.check("SELECT", "2")
    other.check("SET", "k", "db2")
    diff.check("MULTI")
    diff.check("PING")
    diff.check("EXEC")


def test_dirty_exec_resp3_null(diff3, other):
    diff3.check("WATCH", "k")
    other.check("SET", "k", "1")
    diff3.check("MULTI")
    diff3.check("GET", "k")
    assert diff3.check("EXEC") == b"_\r\n"


def test_execabort_wins_over_dirty_watch(diff, other):
    diff.check("WATCH", "k")
    other.check("SET", "k", "1")
    diff.check("MULTI")
    diff.check("NOSUCH")
    diff.check("EXEC")


@pytest.fixture
def no_active_expiry(diff):
    diff.check("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    yield
    diff.check("DEBUG", "SET-ACTIVE-EXPIRE", "1")


def test_key_expiring_between_watch_and_exec(diff, no_active_expiry):
    diff.check("SET", "k", "v", "PX", "300")
    diff.check("WATCH", "k")
    time.sleep(0.4)
    diff.check("MULTI")
    diff.check("SET", "out", "1")
    diff.check("EXEC")
    diff.check("EXISTS", "out")


def test_key_expiring_between_watch_and_exec_reclaimed_by_a_read(diff, other, no_active_expiry):
    diff.check("SET", "k", "v", "PX", "300")
    diff.check("WATCH", "k")
    time.sleep(0.4)
    other.check("GET", "k")
    diff.check("MULTI")
    diff.check("SET", "out", "1")
    diff.check("EXEC")


def test_watching_an_already_expired_key(diff, other, no_active_expiry):
    diff.check("SET", "k", "v", "PX", "10")
    time.sleep(0.04)
    diff.check("WATCH", "k")  # logically gone already: its deletion changes nothing
    other.check("GET", "k")
    diff.check("MULTI")
    diff.check("PING")
    diff.check("EXEC")
    # Recreating it does count as a change.
    diff.check("SET", "k", "v", "PX", "10")
    time.sleep(0.04)
    diff.check("WATCH", "k")
    other.check("SET", "k", "new")
    diff.check("MULTI")
    diff.check("PING")
    diff.check("EXEC")
    # An expired key dropped by FLUSHDB was never there.
    diff.check("SET", "k", "v", "PX", "10")
    time.sleep(0.04)
    diff.check("WATCH", "k")
    other.check("FLUSHDB")
    diff.check("MULTI")
    diff.check("PING")
    diff.check("EXEC")


# -- what the transaction does to its surroundings --------------------------------------------------


def test_blocking_command_inside_multi_times_out_at_once(diff):
    from vermilion.registry import COMMANDS

    if "blpop" not in COMMANDS:
        pytest.skip("BLPOP is not implemented yet")
    diff.run(
        """
        MULTI
        BLPOP nolist 0
        EXEC
        """
    )


def test_pushes_to_the_executing_client_land_inside_the_exec_reply(diff3):
    diff3.check("SUBSCRIBE", "ch")
    diff3.check("MULTI")
    diff3.check("PUBLISH", "ch", "hello")
    diff3.check("SET", "a", "1")
    diff3.check("EXEC")


_CMDSTAT = re.compile(r"cmdstat_(\S+?):calls=(\d+),usec=\d+,usec_per_call=[\d.]+,"
                      r"rejected_calls=(\d+),failed_calls=(\d+)")


def _stats(conn: RawConnection) -> tuple:
    """Command counters (without timings), error counts, commands processed, dirty count."""
    stats = conn.call("INFO", "commandstats").decode()
    table = {name: counts for name, *counts in _CMDSTAT.findall(stats)}
    errors = sorted(re.findall(r"errorstat_(\S+):count=(\d+)", conn.call("INFO", "errorstats").decode()))
    info = conn.call("INFO").decode()
    processed = re.search(r"total_commands_processed:(\d+)", info).group(1)
    dirty = re.search(r"rdb_changes_since_last_save:(\d+)", info).group(1)
    return table, errors, processed, dirty


def test_statistics_count_exec_and_queued_commands_as_redis(diff, other):
    diff.check("CONFIG", "RESETSTAT")
    ours_dirty0 = int(_stats(diff.ours)[3])
    theirs_dirty0 = int(_stats(diff.theirs)[3])
    diff.check("CONFIG", "RESETSTAT")
    diff.run(
        """
        MULTI
        SET a 1
        INCR a
        GET a
        EXEC
        MULTI
        SET b 1
        NOSUCH
        EXEC
        SET s text
        MULTI
        INCR s
        SET c 1
        EXEC
        MULTI
        SET d 1
        DISCARD
        WATCH a
        MULTI
        SET e 1
        EXEC
        """
    )
    other.check("SET", "a", "2")
    diff.check("MULTI")
    diff.check("DISCARD")
    diff.check("WATCH", "a")
    other.check("SET", "a", "3")
    diff.check("MULTI")
    diff.check("SET", "f", "1")
    diff.check("EXEC")
    ours, theirs = _stats(diff.ours), _stats(diff.theirs)
    assert ours[0] == theirs[0]
    assert ours[1] == theirs[1]
    assert int(ours[3]) - ours_dirty0 == int(theirs[3]) - theirs_dirty0


def test_total_commands_processed_after_discard(diff):
    diff.check("CONFIG", "RESETSTAT")
    diff.run(
        """
        MULTI
        SET a 1
        SET b 2
        DISCARD
        MULTI
        SET c 3
        EXEC
        """
    )
    pattern = rb"total_commands_processed:(\d+)"
    ours = re.search(pattern, diff.ours.call("INFO", "stats")).group(1)
    theirs = re.search(pattern, diff.theirs.call("INFO", "stats")).group(1)
    assert ours == theirs


def test_client_list_shows_the_transaction(diff, other):
    for conn, observer in ((diff.ours, other.ours), (diff.theirs, other.theirs)):
        conn.call("CLIENT", "SETNAME", "txclient")
        conn.call("MULTI")
        conn.call("SET", "a", "1")
        conn.call("GET", "a")
        line = [row for row in observer.call("CLIENT", "LIST").decode().split("\n") if "name=txclient" in row][0]
        fields = dict(field.split("=", 1) for field in line.split())
        assert fields["flags"] == "x" and fields["multi"] == "2", line
        conn.call("DISCARD")
        conn.call("WATCH", "w")
        observer.call("SET", "w", "1")
        line = [row for row in observer.call("CLIENT", "LIST").decode().split("\n") if "name=txclient" in row][0]
        fields = dict(field.split("=", 1) for field in line.split())
        assert fields["flags"] == "d" and fields["multi"] == "-1", line
        conn.call("UNWATCH")


def test_reset_discards_the_transaction(diff):
    diff.run(
        """
        WATCH a
        MULTI
        SET a 1
        RESET
        EXEC
        GET a
        """
    )


# -- the WATCH race over TCP --------------------------------------------------------------------------


def _transfer_worker(port: int, accounts: list[str], transfers: int, seed: int, retries: list[int],
                     failures: list[BaseException], start: threading.Barrier) -> None:
    import random

    rng = random.Random(seed)
    client = redis.Redis(port=port)
    try:
        start.wait()
        done = 0
        while done < transfers:
            source, target = rng.sample(accounts, 2)
            amount = rng.randint(1, 20)
            with client.pipeline() as pipe:
                while True:
                    try:
                        # Read, compute, write back: without a working WATCH, concurrent
                        # transfers overwrite each other and money appears or vanishes.
                        pipe.watch(source, target)
                        balance = int(pipe.get(source))
                        other_balance = int(pipe.get(target))
                        time.sleep(0.0003)  # widen the window for the other client
                        pipe.multi()
                        if balance >= amount:
                            pipe.set(source, balance - amount)
                            pipe.set(target, other_balance + amount)
                        pipe.execute()
                        break
                    except redis.WatchError:
                        retries[0] += 1
                        continue
            done += 1
    except BaseException as exc:  # reported to the test thread
        failures.append(exc)
    finally:
        client.close()


def test_watch_race_keeps_the_total(r, server):
    accounts = ["acct:1", "acct:2", "acct:3"]
    r.mset({name: 1000 for name in accounts})
    retries = [0]
    failures: list[BaseException] = []
    start = threading.Barrier(2)
    workers = [
        threading.Thread(target=_transfer_worker,
                         args=(server.port, accounts, 500, seed, retries, failures, start))
        for seed in (1, 2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert not failures, failures
    balances = [int(value) for value in r.mget(accounts)]
    assert sum(balances) == 3000, balances
    assert all(balance >= 0 for balance in balances), balances
    # The clients did collide (and retried): the invariant was really put to the test.
    assert retries[0] > 0
