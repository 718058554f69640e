"""Connection commands (PING ECHO QUIT RESET SELECT HELLO AUTH CLIENT), differential against real
Redis where the reply does not depend on the connection's identity."""

from __future__ import annotations

import re
import socket
import time

import pytest
import redis

from tests.resp_raw import RawConnection, encode_command
from vermilion.testing import run_in_server


def raw(port: int) -> RawConnection:
    return RawConnection(port)


def client_id(conn: RawConnection) -> int:
    reply = conn.call("CLIENT", "ID")
    assert reply[:1] == b":"
    return int(reply[1:-2])


def with_own_id(theirs_reply: bytes, their_id: int, our_id: int) -> bytes:
    """Real Redis's HELLO reply with its client id replaced by ours."""
    return theirs_reply.replace(b"$2\r\nid\r\n:%d\r\n" % their_id, b"$2\r\nid\r\n:%d\r\n" % our_id)


def info_fields(line: bytes) -> list[tuple[str, str]]:
    return [tuple(field.split("=", 1)) for field in line.decode().split(" ")]


def bulk_body(reply: bytes) -> bytes:
    if reply[:1] == b"=":
        header_end = reply.index(b"\r\n")
        return reply[header_end + 2 + 4 : -2]  # skip "txt:"
    assert reply[:1] == b"$", reply
    header_end = reply.index(b"\r\n")
    return reply[header_end + 2 : -2]


# -- PING ECHO SELECT ----------------------------------------------------------------------------


def test_ping_echo(diff):
    diff.run(
        """
        PING
        PING hello
        PING a b
        ECHO hello
        ECHO
        ECHO a b
        """
    )
    diff.check("ECHO", "")
    diff.check("PING", "")
    diff.check("ECHO", b"\x00\xff\r\n")


def test_ping_echo_resp3(diff3):
    diff3.check("PING")
    diff3.check("PING", "x")
    diff3.check("ECHO", "x")


def test_select(diff):
    diff.run(
        """
        SELECT 0
        SELECT 15
        SELECT 16
        SELECT -1
        SELECT abc
        SELECT 1.5
        SELECT 01
        SELECT +1
        SELECT 2147483648
        SELECT -2147483649
        SELECT 99999999999999999999
        SELECT
        SELECT 1 2
        """
    )
    diff.check("SELECT", " 1")


def test_select_changes_database(diff):
    diff.check("SELECT", "3")
    diff.check("SET", "k", "v3")
    diff.check("SELECT", "0")
    diff.check("GET", "k")
    diff.check("SELECT", "3")
    diff.check("GET", "k")
    diff.check("SELECT", "0")


# -- QUIT and RESET ---------------------------------------------------------------------------------


def test_quit_replies_then_closes(server, oracle_port):
    for port in (server.port, oracle_port):
        conn = raw(port)
        assert conn.call("QUIT") == b"+OK\r\n"
        assert conn.closed_by_peer()
        conn = raw(port)
        assert conn.call("QUIT", "extra", "args") == b"+OK\r\n"
        assert conn.closed_by_peer()


def test_quit_stops_the_pipeline(server):
    conn = raw(server.port)
    conn.send_raw(encode_command(("PING",)) + encode_command(("QUIT",)) + encode_command(("PING",)))
    time.sleep(0.2)
    data = b""
    while True:
        chunk = conn.sock.recv(1024)
        if not chunk:
            break
        data += chunk
    assert data == b"+PONG\r\n+OK\r\n"


def test_reset(diff):
    for conn in (diff.ours, diff.theirs):
        conn.call("SELECT", "2")
        conn.call("CLIENT", "SETNAME", "someone")
        conn.call("HELLO", "3")
        conn.call("MULTI")
    diff.check("RESET")
    diff.check("CLIENT", "GETNAME")
    diff.check("SET", "k", "in-db-0")
    diff.check("SELECT", "0")
    diff.check("GET", "k")
    diff.check("PING")
    diff.check("RESET", "extra")


def test_reset_ends_reply_off(diff):
    for conn in (diff.ours, diff.theirs):
        conn.send_raw(encode_command(("CLIENT", "REPLY", "OFF")))
    diff.check("RESET")
    diff.check("PING")


def test_reset_unwatches(server):
    conn, other = raw(server.port), raw(server.port)
    if conn.call("WATCH", "k") != b"+OK\r\n":
        pytest.skip("WATCH is not implemented yet")
    assert conn.call("RESET") == b"+RESET\r\n"
    other.call("SET", "k", "1")
    assert b" flags=N " in conn.call("CLIENT", "INFO")


# -- HELLO --------------------------------------------------------------------------------------------


def test_hello_replies(diff):
    our_id, their_id = client_id(diff.ours), client_id(diff.theirs)
    for args in (("HELLO",), ("HELLO", "2"), ("HELLO", "3"), ("HELLO",), ("HELLO", "2")):
        ours, theirs = diff.both(*args)
        assert ours == with_own_id(theirs, their_id, our_id), args


def test_hello_errors(diff):
    diff.run(
        """
        HELLO 1
        HELLO 4
        HELLO -1
        HELLO abc
        HELLO 3.0
        HELLO 02
        HELLO 3 auth
        HELLO 3 auth default
        HELLO 3 setname
        HELLO 2 foo
        HELLO 2 auth nosuchuser pass
        HELLO 2 auth nosuchuser pass extra
        """
    )
    diff.check("HELLO", "3", "SETNAME", "a b")
    diff.check("PING")  # still RESP2: the failed HELLO changed nothing


def test_hello_setname_and_auth(diff):
    our_id, their_id = client_id(diff.ours), client_id(diff.theirs)
    ours, theirs = diff.both("HELLO", "3", "AUTH", "default", "anything", "SETNAME", "bar")
    assert ours == with_own_id(theirs, their_id, our_id)
    diff.check("CLIENT", "GETNAME")
    ours, theirs = diff.both("hello", "3", "setname", "x", "setname", "y")
    assert ours == with_own_id(theirs, their_id, our_id)
    diff.check("CLIENT", "GETNAME")
    # An option error after SETNAME leaves the name set (Redis 7.0 applies options in order).
    diff.check("HELLO", "2", "SETNAME", "z", "bogus")
    diff.check("CLIENT", "GETNAME")
    diff.check("PING")


def test_hello_switches_protocol(r):
    conn = raw(r.connection_pool.connection_kwargs["port"])
    assert conn.call("HELLO", "3")[:1] == b"%"
    assert conn.call("CLIENT", "GETNAME") == b"_\r\n"
    assert conn.call("HELLO", "2")[:1] == b"*"
    assert conn.call("CLIENT", "GETNAME") == b"$-1\r\n"


# -- AUTH ------------------------------------------------------------------------------------------------


def test_auth_without_password(diff):
    diff.run(
        """
        AUTH x
        AUTH default x
        AUTH nosuch x
        AUTH a b c
        AUTH
        """
    )


class _RequirePass:
    """requirepass set on Vermilion and on the oracle for the length of a test."""

    def __init__(self, server, oracle_port: int, password: str) -> None:
        self.server = server
        self.oracle = raw(oracle_port)
        self.password = password

    def __enter__(self):
        def apply() -> None:
            self.server.config.requirepass = self.password
            self.server.acl.set_default_password(self.password)

        run_in_server(self.server, apply)
        assert self.oracle.call("CONFIG", "SET", "requirepass", self.password) == b"+OK\r\n"
        return self

    def __exit__(self, *exc) -> None:
        def clear() -> None:
            self.server.config.requirepass = ""
            self.server.acl.set_default_password("")

        run_in_server(self.server, clear)
        self.oracle.call("CONFIG", "SET", "requirepass", "")
        self.oracle.close()


@pytest.fixture
def requirepass(server, oracle_port):
    with _RequirePass(server, oracle_port, "secret"):
        yield "secret"


def test_auth_with_password(requirepass, server, oracle_port):
    from tests.conftest import Differ

    diff = Differ(raw(server.port), raw(oracle_port))
    diff.run(
        """
        PING
        GET k
        CLIENT ID
        RESET
        AUTH wrong
        AUTH default wrong
        AUTH other secret
        PING
        HELLO
        HELLO 3
        HELLO 3 SETNAME foo
        HELLO 3 AUTH default wrong
        AUTH secret
        CLIENT GETNAME
        PING
        AUTH wrong
        PING
        RESET
        PING
        AUTH default secret
        PING
        """
    )


def test_quit_without_auth(requirepass, server, oracle_port):
    for port in (server.port, oracle_port):
        conn = raw(port)
        assert conn.call("QUIT") == b"+OK\r\n"
        assert conn.closed_by_peer()


def test_hello_auth_with_password(requirepass, server, oracle_port):
    ours, theirs = raw(server.port), raw(oracle_port)
    our_reply = ours.call("HELLO", "3", "AUTH", "default", "secret", "SETNAME", "n")
    their_reply = theirs.call("HELLO", "3", "AUTH", "default", "secret", "SETNAME", "n")
    assert our_reply[:1] == b"%"
    assert re.sub(rb"id\r\n:\d+", b"id", our_reply) == re.sub(rb"id\r\n:\d+", b"id", their_reply)
    assert ours.call("PING") == theirs.call("PING") == b"+PONG\r\n"
    assert ours.call("CLIENT", "GETNAME") == b"$1\r\nn\r\n"


def test_redis_py_with_password(requirepass, server):
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(port=server.port, password="nope").ping()
    assert redis.Redis(port=server.port, password="secret").ping()
    assert redis.Redis(port=server.port, password="secret", protocol=3).ping()
    assert redis.Redis(port=server.port, username="default", password="secret").ping()


# -- CLIENT ------------------------------------------------------------------------------------------------


def test_client_simple_subcommands(diff):
    diff.run(
        """
        CLIENT GETNAME
        CLIENT SETNAME abc
        CLIENT GETNAME
        CLIENT SETNAME ""
        CLIENT GETNAME
        CLIENT GETREDIR
        CLIENT NO-EVICT on
        CLIENT NO-EVICT OFF
        CLIENT NO-EVICT maybe
        CLIENT NO-EVICT
        CLIENT REPLY foo
        CLIENT REPLY on extra
        CLIENT SETNAME a b
        CLIENT
        CLIENT foo
        CLIENT ID extra
        CLIENT UNPAUSE
        CLIENT PAUSE
        CLIENT PAUSE abc
        CLIENT PAUSE -1
        CLIENT PAUSE 0 foo
        CLIENT PAUSE 0 all extra
        CLIENT PAUSE 1.5
        CLIENT PAUSE 99999999999999999999
        CLIENT PAUSE 0 write
        CLIENT PAUSE 0 ALL
        CLIENT UNPAUSE
        """
    )
    diff.check("Client", "PaUse", "0", "all", "extra")
    diff.check("CLIENT", "SETNAME", "a\nb")
    diff.check("CLIENT", "SETNAME", "caf\xe9")
    diff.check("CLIENT", "SETNAME", "~!")
    diff.check("CLIENT", "GETNAME")


def test_client_getname_resp3(diff3):
    diff3.check("CLIENT", "GETNAME")
    diff3.check("CLIENT", "SETNAME", "n")
    diff3.check("CLIENT", "GETNAME")


def test_client_id_is_the_connection_id(server):
    first, second = raw(server.port), raw(server.port)
    assert client_id(second) > client_id(first)
    line = bulk_body(first.call("CLIENT", "INFO")).decode()
    assert line.startswith(f"id={client_id(first)} ")


def test_client_list_and_info_errors(diff):
    diff.run(
        """
        CLIENT LIST foo
        CLIENT LIST TYPE
        CLIENT LIST TYPE foo
        CLIENT LIST TYPE normal extra
        CLIENT LIST ID
        CLIENT LIST ID abc
        CLIENT LIST ID 1 abc
        CLIENT LIST ID 0
        CLIENT LIST ID -1
        CLIENT LIST ID 999999
        CLIENT LIST TYPE pubsub
        CLIENT LIST TYPE master
        CLIENT LIST TYPE replica
        CLIENT LIST TYPE slave
        CLIENT INFO extra
        """
    )


# Fields whose values depend only on what the connection did, in Redis 7.0's order.
DETERMINISTIC_FIELDS = ("name", "db", "sub", "psub", "ssub", "multi", "flags", "cmd", "user", "redir", "resp")


def compare_info_lines(ours: bytes, theirs: bytes) -> None:
    our_fields, their_fields = info_fields(ours), info_fields(theirs)
    assert [k for k, _ in our_fields] == [k for k, _ in their_fields]
    our_values, their_values = dict(our_fields), dict(their_fields)
    for field in DETERMINISTIC_FIELDS:
        assert our_values[field] == their_values[field], field
    assert our_values["argv-mem"] == their_values["argv-mem"]
    assert our_values["age"] == our_values["idle"] == "0"


def test_client_info_fields(diff):
    ours, theirs = diff.both("CLIENT", "INFO")
    assert ours.endswith(b"\n\r\n") and theirs.endswith(b"\n\r\n")
    compare_info_lines(bulk_body(ours).rstrip(b"\n"), bulk_body(theirs).rstrip(b"\n"))
    for conn in (diff.ours, diff.theirs):
        conn.call("SELECT", "5")
        conn.call("CLIENT", "SETNAME", "worker-1")
        conn.call("CLIENT", "NO-EVICT", "on")
        conn.call("HELLO", "3")
    ours, theirs = diff.both("CLIENT", "INFO")
    assert ours[:1] == theirs[:1] == b"="
    compare_info_lines(bulk_body(ours).rstrip(b"\n"), bulk_body(theirs).rstrip(b"\n"))
    assert b" flags=e " in ours and b" db=5 " in ours and b" resp=3\n" in ours


def test_client_list_of_another_connection(server, oracle_port):
    lines = []
    for port in (server.port, oracle_port):
        watcher, other = raw(port), raw(port)
        other.call("SET", "k", "v")
        other.call("CLIENT", "SETNAME", "other")
        other_id = client_id(other)
        body = bulk_body(watcher.call("CLIENT", "LIST", "ID", str(other_id), str(other_id)))
        rows = body.split(b"\n")
        assert rows[-1] == b"" and rows[0] == rows[1]
        lines.append(rows[0])
        everyone = bulk_body(watcher.call("CLIENT", "LIST")).split(b"\n")
        assert any(row.startswith(b"id=%d " % other_id) for row in everyone)
        normal = bulk_body(watcher.call("CLIENT", "LIST", "TYPE", "normal")).split(b"\n")
        assert any(row.startswith(b"id=%d " % other_id) for row in normal)
    ours, theirs = (info_fields(line) for line in lines)
    assert [k for k, _ in ours] == [k for k, _ in theirs]
    for field in DETERMINISTIC_FIELDS:
        assert dict(ours)[field] == dict(theirs)[field], field
    assert dict(ours)["cmd"] == "client|id"  # the last command it ran
    assert dict(ours)["argv-mem"] == "0" and dict(ours)["qbuf"] == "0"


def test_client_list_in_multi(server, oracle_port):
    for port in (server.port, oracle_port):
        watcher, busy = raw(port), raw(port)
        if busy.call("MULTI") != b"+OK\r\n":
            pytest.skip("MULTI is not implemented yet")
        busy.call("SET", "k", "v")
        busy.call("GET", "kkkkk")
        line = bulk_body(watcher.call("CLIENT", "LIST", "ID", str(client_id_via(watcher, busy))))
        fields = dict(info_fields(line.rstrip(b"\n")))
        assert fields["flags"] == "x" and fields["multi"] == "2" and fields["multi-mem"] == "53"
        assert fields["cmd"] == "get"


def client_id_via(watcher: RawConnection, busy: RawConnection) -> int:
    body = bulk_body(watcher.call("CLIENT", "LIST")).decode()
    ids = [int(row.split(" ", 1)[0][3:]) for row in body.splitlines()]
    mine = int(bulk_body(watcher.call("CLIENT", "INFO")).decode().split(" ", 1)[0][3:])
    return max(i for i in ids if i != mine)


def test_client_kill_errors(diff):
    diff.run(
        """
        CLIENT KILL 1.2.3.4:5
        CLIENT KILL addr
        CLIENT KILL ID 999999
        CLIENT KILL ID abc
        CLIENT KILL ID 0
        CLIENT KILL ID -5
        CLIENT KILL TYPE foo
        CLIENT KILL TYPE normal SKIPME yes ID 999999
        CLIENT KILL SKIPME maybe
        CLIENT KILL foo bar
        CLIENT KILL ADDR 1.2.3.4:5
        CLIENT KILL LADDR 1.2.3.4:5
        CLIENT KILL USER nosuch
        CLIENT KILL USER default SKIPME yes ID 999999
        CLIENT KILL ID 1 ID
        CLIENT KILL MAXAGE 10
        CLIENT KILL ID abc TYPE foo
        CLIENT KILL TYPE master
        CLIENT KILL TYPE replica
        CLIENT KILL TYPE slave
        CLIENT KILL TYPE pubsub
        CLIENT KILL SKIPME no SKIPME yes ID 5
        CLIENT KILL
        """
    )


def test_client_kill_by_id_and_filters(server, oracle_port):
    for port in (server.port, oracle_port):
        killer, victim = raw(port), raw(port)
        victim_id = client_id(victim)
        assert killer.call("CLIENT", "KILL", "ID", str(victim_id)) == b":1\r\n"
        assert victim.closed_by_peer()
        assert killer.call("CLIENT", "KILL", "ID", str(victim_id)) == b":0\r\n"
        # Several filters at once must all match.
        victim = raw(port)
        victim_id = client_id(victim)
        victim_line = bulk_body(victim.call("CLIENT", "INFO")).decode()
        victim_addr = re.search(r" addr=(\S+)", victim_line).group(1)
        victim_laddr = re.search(r" laddr=(\S+)", victim_line).group(1)
        assert killer.call("CLIENT", "KILL", "ID", str(victim_id), "ADDR", "1.1.1.1:1") == b":0\r\n"
        reply = killer.call(
            "CLIENT", "KILL", "ID", str(victim_id), "ADDR", victim_addr, "LADDR", victim_laddr,
            "USER", "default", "TYPE", "normal", "SKIPME", "yes",
        )
        assert reply == b":1\r\n"
        assert victim.closed_by_peer()
        # The old form answers OK and finds the client by address.
        victim = raw(port)
        victim_addr = re.search(r" addr=(\S+)", bulk_body(victim.call("CLIENT", "INFO")).decode()).group(1)
        assert killer.call("CLIENT", "KILL", victim_addr) == b"+OK\r\n"
        assert victim.closed_by_peer()
        assert killer.call("PING") == b"+PONG\r\n"


def test_client_kill_self(server, oracle_port):
    for port in (server.port, oracle_port):
        conn = raw(port)
        my_id = client_id(conn)
        assert conn.call("CLIENT", "KILL", "ID", str(my_id)) == b":0\r\n"  # SKIPME yes by default
        assert conn.call("CLIENT", "KILL", "ID", str(my_id), "SKIPME", "no") == b":1\r\n"
        assert conn.closed_by_peer()
        conn = raw(port)
        addr = re.search(r" addr=(\S+)", bulk_body(conn.call("CLIENT", "INFO")).decode()).group(1)
        assert conn.call("CLIENT", "KILL", addr) == b"+OK\r\n"
        assert conn.closed_by_peer()


def test_killed_client_leaves_the_list_at_once(server):
    killer, victim = raw(server.port), raw(server.port)
    victim_id = client_id(victim)
    killer.send_raw(
        encode_command(("CLIENT", "KILL", "ID", str(victim_id)))
        + encode_command(("CLIENT", "LIST", "ID", str(victim_id)))
    )
    assert killer.read_reply() == b":1\r\n"
    assert killer.read_reply() == b"$0\r\n\r\n"


def drain(conn: RawConnection, wait: float = 0.3) -> bytes:
    conn.sock.settimeout(wait)
    data = conn.buffer
    conn.buffer = b""
    try:
        while True:
            chunk = conn.sock.recv(65536)
            if not chunk:
                break
            data += chunk
    except (socket.timeout, TimeoutError):
        pass
    conn.sock.settimeout(10)
    return data


def test_client_reply_modes(server, oracle_port):
    script = [
        ("CLIENT", "REPLY", "OFF"),
        ("PING", "a"),
        ("CLIENT", "REPLY", "SKIP"),  # ignored while OFF
        ("PING", "b"),
        ("CLIENT", "REPLY", "ON"),
        ("PING", "c"),
        ("CLIENT", "REPLY", "SKIP"),
        ("PING", "d"),
        ("PING", "e"),
        ("CLIENT", "REPLY", "SKIP"),
        ("CLIENT", "REPLY", "SKIP"),
        ("PING", "f"),
        ("PING", "g"),
        ("CLIENT", "REPLY", "OFF"),
        ("CLIENT", "REPLY", "bogus"),  # the error is not sent either
        ("CLIENT", "REPLY", "ON"),
        ("GET",),
    ]
    payload = b"".join(encode_command(cmd) for cmd in script)
    results = []
    for port in (server.port, oracle_port):
        conn = raw(port)
        conn.send_raw(payload)
        results.append(drain(conn))
    assert results[0] == results[1]
    assert results[0].startswith(b"+OK\r\n$1\r\nc\r\n$1\r\ne\r\n")


def test_client_setinfo(server):
    conn = raw(server.port)
    assert conn.call("CLIENT", "SETINFO", "LIB-NAME", "my-lib") == b"+OK\r\n"
    assert conn.call("CLIENT", "SETINFO", "lib-ver", "1.2.3") == b"+OK\r\n"
    assert conn.call("CLIENT", "SETINFO", "LIB-NAME", "a b") == (
        b"-ERR LIB-NAME cannot contain spaces, newlines or special characters.\r\n"
    )
    assert conn.call("CLIENT", "SETINFO", "lib-ver", "x\ny") == (
        b"-ERR lib-ver cannot contain spaces, newlines or special characters.\r\n"
    )
    assert conn.call("CLIENT", "SETINFO", "LIB-FOO", "x") == b"-ERR Unrecognized option 'LIB-FOO'\r\n"
    assert conn.call("CLIENT", "SETINFO", "LIB-NAME") == (
        b"-ERR wrong number of arguments for 'client|setinfo' command\r\n"
    )

    def stored():
        for client in server.clients.values():
            if client.lib_name == b"my-lib":
                return client.lib_ver
        return None

    assert run_in_server(server, stored) == b"1.2.3"
    # The 7.0 CLIENT LIST fields stay as they are: no lib-name/lib-ver.
    assert b"lib-name" not in conn.call("CLIENT", "INFO")


def test_client_no_touch(server):
    conn = raw(server.port)
    assert conn.call("CLIENT", "NO-TOUCH", "on") == b"+OK\r\n"
    assert b" flags=T " in conn.call("CLIENT", "INFO")
    assert conn.call("CLIENT", "NO-EVICT", "on") == b"+OK\r\n"
    assert b" flags=eT " in conn.call("CLIENT", "INFO")
    assert conn.call("CLIENT", "NO-TOUCH", "OFF") == b"+OK\r\n"
    assert b" flags=e " in conn.call("CLIENT", "INFO")
    assert conn.call("CLIENT", "NO-TOUCH", "maybe") == b"-ERR syntax error\r\n"


def test_redis_py_sends_setinfo_at_connect(server):
    client = redis.Redis(port=server.port, protocol=3)
    assert client.ping()
    libs = run_in_server(server, lambda: [c.lib_name for c in server.clients.values()])
    assert b"redis-py" in libs


def test_client_help(server):
    conn = raw(server.port)
    reply = conn.call("CLIENT", "HELP")
    assert reply.startswith(b"*") and b"+CLIENT <subcommand>" in reply
    for word in (b"GETNAME", b"KILL", b"LIST", b"PAUSE", b"UNPAUSE", b"REPLY", b"SETNAME", b"NO-EVICT",
                 b"UNBLOCK"):
        assert b"+" + word in reply
    for word in (b"TRACKING", b"CACHING"):  # not implemented, so not offered
        assert b"+" + word not in reply


def test_redis_py_client_commands(r, r3):
    for client in (r, r3):
        assert client.client_setname("py-client")
        assert client.client_getname() in (b"py-client", "py-client")
        assert isinstance(client.client_id(), int)
        listed = client.client_list()
        assert any(entry["name"] == "py-client" for entry in listed)
        me = client.client_info()
        assert me["name"] == "py-client" and me["cmd"] == "client|info"
        assert client.client_list(_type="normal")


# -- CLIENT PAUSE -----------------------------------------------------------------------------------


def timed_call(conn: RawConnection, *args) -> tuple[bytes, float]:
    start = time.monotonic()
    reply = conn.call(*args)
    return reply, time.monotonic() - start


@pytest.fixture
def pause_ports(server, oracle_port):
    yield (server.port, oracle_port)
    for port in (server.port, oracle_port):
        raw(port).call("CLIENT", "UNPAUSE")


def test_pause_write_holds_writes_only(pause_ports):
    for port in pause_ports:
        admin, worker = raw(port), raw(port)
        assert admin.call("CLIENT", "PAUSE", "300", "WRITE") == b"+OK\r\n"
        reply, took = timed_call(worker, "GET", "k")
        assert reply == b"$-1\r\n" and took < 0.15
        reply, took = timed_call(worker, "PING")
        assert took < 0.15
        reply, took = timed_call(worker, "SET", "k", "v")
        assert reply == b"+OK\r\n" and took > 0.2, port


def test_pause_all_holds_everything(pause_ports):
    for port in pause_ports:
        admin, worker, releaser = raw(port), raw(port), raw(port)
        assert admin.call("CLIENT", "PAUSE", "500") == b"+OK\r\n"
        worker.send_raw(encode_command(("PING", "held")))
        releaser.send_raw(encode_command(("CLIENT", "UNPAUSE")))  # held like everything else
        time.sleep(0.2)
        assert drain(worker, 0.05) == b""
        assert drain(releaser, 0.05) == b""
        time.sleep(0.4)
        assert drain(worker) == b"$4\r\nheld\r\n"
        assert drain(releaser) == b"+OK\r\n"


def test_unpause_releases_held_commands_in_order(pause_ports):
    for port in pause_ports:
        admin, worker = raw(port), raw(port)
        assert admin.call("CLIENT", "PAUSE", "5000", "WRITE") == b"+OK\r\n"
        worker.send_raw(
            encode_command(("SET", "pk", "1"))
            + encode_command(("GET", "pk"))
            + encode_command(("INCR", "pk"))
        )
        time.sleep(0.2)
        assert drain(worker, 0.1) == b""  # the GET waits behind the held SET
        assert admin.call("CLIENT", "UNPAUSE") == b"+OK\r\n"
        time.sleep(0.1)
        assert drain(worker, 0.3) == b"+OK\r\n$1\r\n1\r\n:2\r\n"
        admin.call("DEL", "pk")


def test_pause_expires_by_itself(pause_ports):
    for port in pause_ports:
        admin, worker = raw(port), raw(port)
        assert admin.call("CLIENT", "PAUSE", "200", "ALL") == b"+OK\r\n"
        reply, took = timed_call(worker, "PING")
        assert reply == b"+PONG\r\n" and 0.1 < took < 2, port


def test_pause_only_lengthens(pause_ports):
    for port in pause_ports:
        admin, worker = raw(port), raw(port)
        assert admin.call("CLIENT", "PAUSE", "400", "WRITE") == b"+OK\r\n"
        assert admin.call("CLIENT", "PAUSE", "10", "WRITE") == b"+OK\r\n"
        reply, took = timed_call(worker, "SET", "k", "v")
        assert reply == b"+OK\r\n" and took > 0.25, port


def test_pause_only_widens(pause_ports):
    for port in pause_ports:
        admin, worker = raw(port), raw(port)
        assert admin.call("CLIENT", "PAUSE", "400", "WRITE") == b"+OK\r\n"
        assert admin.call("CLIENT", "PAUSE", "0", "ALL") == b"+OK\r\n"
        reply, took = timed_call(worker, "GET", "k")
        assert took > 0.25, port
        assert admin.call("CLIENT", "PAUSE", "10", "WRITE") == b"+OK\r\n"
        reply, took = timed_call(worker, "GET", "k")
        assert took < 0.15, port


def test_pause_holds_exec_with_writes(server):
    admin, worker = raw(server.port), raw(server.port)
    if worker.call("MULTI") != b"+OK\r\n":
        pytest.skip("MULTI is not implemented yet")
    assert admin.call("CLIENT", "PAUSE", "300", "WRITE") == b"+OK\r\n"
    reply, took = timed_call(worker, "GET", "x")
    assert reply == b"+QUEUED\r\n" and took < 0.15
    reply, took = timed_call(worker, "EXEC")
    assert took < 0.15


def test_paused_client_disconnecting(server):
    admin, worker = raw(server.port), raw(server.port)
    assert admin.call("CLIENT", "PAUSE", "300", "WRITE") == b"+OK\r\n"
    worker.send_raw(encode_command(("SET", "gone", "1")))
    time.sleep(0.05)
    worker.close()
    time.sleep(0.4)
    assert admin.call("PING") == b"+PONG\r\n"
    assert admin.call("GET", "gone") == b"$-1\r\n"
