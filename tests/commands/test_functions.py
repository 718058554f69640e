"""Functions: FUNCTION LOAD/DELETE/FLUSH/LIST/STATS/DUMP/RESTORE/KILL/HELP, FCALL, FCALL_RO and
redis.register_function, differential against real Redis 7.0 (exact reply bytes).

Redis lists libraries (and a library's functions) in hash order, which changes from one process
to the next; sessions here keep one function per library where the order would show.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FIXTURE_SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

SESSION = [
    ('FUNCTION', 'FLUSH'),
    ('FUNCTION', 'LOAD', "#!lua name=mylib\nredis.register_function('myfunc', function(keys, args) return args[1] end)"),
    ('FUNCTION', 'DUMP'),
    ('FUNCTION', 'LIST'),
    ('FUNCTION', 'LIST', 'WITHCODE'),
    ('FUNCTION', 'STATS'),
    ('FCALL', 'myfunc', '0', 'hello'),
    ('FCALL', 'MYFUNC', '0', 'hello'),
    ('FCALL', 'nosuch', '0'),
    ('FCALL', 'myfunc', 'x'),
    ('FCALL', 'myfunc', '-1'),
    ('FCALL', 'myfunc', '5'),
    ('FUNCTION', 'LOAD', "#!lua name=lib3\nlocal s = string.format('%d', 1)\nredis.register_function('f3', function(keys, args) return 1 end)"),
    ('FUNCTION', 'LOAD', "#!lua name=lib3\nlocal s = redis.call('ping')\nredis.register_function('f3', function(keys, args) return 1 end)"),
    ('FUNCTION', 'LOAD', "#!lua name=lib3\nredis.register_function('f3', function(keys, args) return string.format('%d', 5) end)"),
    ('FCALL', 'f3', '0'),
    ('FUNCTION', 'FLUSH'),
    ('FUNCTION', 'LOAD', "#!lua name=lib4\nredis.register_function{function_name='f4', callback=function(keys, args) return redis.call('set', keys[1], 'v') end, flags={'no-writes'}, description='desc'}"),
    ('FUNCTION', 'LIST'),
    ('FCALL', 'f4', '1', 'k'),
    ('FCALL_RO', 'f4', '1', 'k'),
    ('FUNCTION', 'LOAD', "#!lua name=lib5\nredis.register_function{function_name='f5', callback=function(keys, args) return redis.call('set', keys[1], 'v') end}"),
    ('FCALL_RO', 'f5', '1', 'k'),
    ('FCALL', 'f5', '1', 'k'),
    ('FUNCTION', 'LOAD', "#!lua name=lib5\nredis.register_function('f5', function() return 1 end)"),
    ('FUNCTION', 'LOAD', 'REPLACE', "#!lua name=lib5\nredis.register_function('f5', function() return 2 end)"),
    ('FCALL', 'f5', '0'),
    ('FUNCTION', 'LOAD', 'REPLACE', "#!lua name=lib6\nredis.register_function('f5', function() return 2 end)"),
    ('FUNCTION', 'LOAD', "#!lua name=lib6\nredis.register_function('f6', function() return 2 end) redis.register_function('f6', function() return 2 end)"),
    ('FUNCTION', 'LOAD', "#!lua name=lib6\nredis.register_function('f-6', function() return 2 end)"),
    ('FUNCTION', 'LOAD', "#!lua name=lib6\nredis.register_function('', function() return 2 end)"),
    ('FUNCTION', 'LOAD', '#!lua name=lib6\nlocal x = 1'),
    ('FUNCTION', 'LOAD', '#!lua name=lib6\nlocal x = +'),
    ('FUNCTION', 'LOAD', "#!lua name=lib6\nerror('boom')"),
    ('FUNCTION', 'LOAD', "#!lua name=lib6\nerror({err='custom'})"),
    ('FUNCTION', 'LOAD', '#!lua name=lib6\nerror({})'),
    ('FUNCTION', 'LOAD', '#!lua name=lib6\nredis.register_function()'),
    ('FUNCTION', 'LOAD', '#!lua name=lib6\nredis.register_function(1, 2, 3)'),
    ('FUNCTION', 'LOAD', "#!lua name=lib6\nredis.register_function('x')"),
    ('FUNCTION', 'LOAD', "#!lua name=lib6\nredis.register_function({}, 'x')"),
    ('FUNCTION', 'LOAD', "#!lua name=lib6\nredis.register_function('x', 'y')"),
    ('FUNCTION', 'LOAD', '#!lua name=lib6\nredis.register_function(5, function() end)'),
    ('FUNCTION', 'LOAD', '#!lua name=lib6\nredis.register_function{}'),
    ('FUNCTION', 'LOAD', "#!lua name=lib6\nredis.register_function{function_name='x'}"),
    ('FUNCTION', 'LOAD', '#!lua name=lib6\nredis.register_function{callback=function() end}'),
    ('FUNCTION', 'LOAD', '#!lua name=lib6\nredis.register_function{function_name={}, callback=function() end}'),
    ('FUNCTION', 'LOAD', "#!lua name=lib6\nredis.register_function{function_name='a', callback='b'}"),
    ('FUNCTION', 'LOAD', "#!lua name=lib6\nredis.register_function{function_name='a', callback=function() end, flags='x'}"),
    ('FUNCTION', 'LOAD', "#!lua name=lib6\nredis.register_function{function_name='a', callback=function() end, flags={'bogus'}}"),
    ('FUNCTION', 'LOAD', "#!lua name=lib6\nredis.register_function{function_name='a', callback=function() end, description={}}"),
    ('FUNCTION', 'LOAD', "#!lua name=lib6\nredis.register_function{function_name='a', callback=function() end, other=1}"),
    ('FUNCTION', 'LOAD', "#!lua name=lib6\nredis.register_function{FUNCTION_NAME='a', CallBack=function() end, FLAGS={'NO-WRITES'}}"),
    ('FUNCTION', 'LIST', 'LIBRARYNAME', 'lib6'),
    ('FUNCTION', 'LOAD', "#!lua name=lib7\nredis.register_function('a7', redis.log)"),
    ('FUNCTION', 'LOAD', "#!lua name=lib7\nredis.log(redis.LOG_WARNING, 'loading') return 1"),
    ('FUNCTION', 'LOAD', '#!lua name=lib7\nreturn redis.REDIS_VERSION'),
    ('FUNCTION', 'LOAD', '#!lua name=lib7\nredis.nosuch()'),
    ('FUNCTION', 'LOAD', '#!lua name=lib7\nx = 1'),
    ('FUNCTION', 'LOAD', 'no shebang'),
    ('FUNCTION', 'LOAD', '#!lua name=x'),
    ('FUNCTION', 'LOAD', '#!lua\nreturn 1'),
    ('FUNCTION', 'LOAD', '#!lua name=a name=b\nreturn 1'),
    ('FUNCTION', 'LOAD', '#!lua name=a foo=b\nreturn 1'),
    ('FUNCTION', 'LOAD', "#!lua NAME=a8\nredis.register_function('f8', function() return 8 end)"),
    ('FUNCTION', 'LOAD', '#!python name=a\nreturn 1'),
    ('FUNCTION', 'LOAD', "#!LUA name=a9\nredis.register_function('f9', function() return 9 end)"),
    ('FUNCTION', 'LOAD', '#!lua name=a-b\nreturn 1'),
    ('FUNCTION', 'LOAD', '#!lua name=\nreturn 1'),
    ('FUNCTION', 'LOAD', '#!lua name="a b"\nreturn 1'),
    ('FUNCTION', 'LOAD', '#!lua "name=x\nreturn 1'),
    ('FUNCTION', 'DELETE', 'a9'),
    ('FUNCTION', 'DELETE', 'a9'),
    ('FCALL', 'f9', '0'),
    ('FUNCTION', 'LOAD', "#!lua name=lib10\nredis.register_function('f10', function(keys, args) return {keys, args, #keys, #args} end)"),
    ('FCALL', 'f10', '2', 'k1', 'k2', 'a1'),
    ('FUNCTION', 'LOAD', "#!lua name=lib11\nredis.register_function('f11', function(keys, args) return KEYS end)"),
    ('FCALL', 'f11', '0'),
    ('FUNCTION', 'LOAD', "#!lua name=lib12\nredis.register_function('f12', function(keys, args) error('in func') end)"),
    ('FCALL', 'f12', '0'),
    ('FUNCTION', 'LOAD', "#!lua name=lib13\nredis.register_function('f13', function(keys, args) return redis.call('nosuch') end)"),
    ('FCALL', 'f13', '0'),
    ('FUNCTION', 'LOAD', "#!lua name=lib14\nlocal function helper() return 'h' end\nredis.register_function('f14', function(keys, args) return helper() .. (args[1] or '') end)"),
    ('FCALL', 'f14', '0', 'z'),
    ('FUNCTION', 'LOAD', "#!lua name=lib15\nredis.register_function('f15', function(keys, args) x = 5 end)"),
    ('FCALL', 'f15', '0'),
    ('FUNCTION', 'LOAD', "#!lua name=lib16\nredis.register_function('f16', function(keys, args) return redis.setresp(3) end)"),
    ('FCALL', 'f16', '0'),
    ('FUNCTION', 'LOAD', "#!lua name=lib17\nredis.register_function('f17', function(keys, args) local t = {} for k in pairs(redis) do t[#t+1] = k end table.sort(t) return t end)"),
    ('FCALL', 'f17', '0'),
    ('FUNCTION', 'LOAD', "#!lua name=lib18\nredis.register_function('f18', function(keys, args) local t = {} for k in pairs(_G) do t[#t+1] = k end table.sort(t) return t end)"),
    ('FCALL', 'f18', '0'),
    ('FUNCTION', 'LOAD', "#!lua name=lib19\nredis.register_function('f19', function(keys, args) return loadstring('return 1')() end)"),
    ('FCALL', 'f19', '0'),
    ('FUNCTION', 'STATS'),
    ('FUNCTION', 'FLUSH', 'ASYNC'),
    ('FUNCTION', 'LIST'),
    ('FUNCTION', 'RESTORE', "õÃ@V@[\x1f#!lua name=mylib\nredis.register_\x0bfunction('my@\x0b\x02', @\x06`\x12\x11keys, args) return`\x0c\x07[1] end)\n\x00\x8dY6\xadÆç\x07Ú"),
    ('FUNCTION', 'LIST'),
    ('FUNCTION', 'RESTORE', "õÃ@V@[\x1f#!lua name=mylib\nredis.register_\x0bfunction('my@\x0b\x02', @\x06`\x12\x11keys, args) return`\x0c\x07[1] end)\n\x00\x8dY6\xadÆç\x07Ú"),
    ('FUNCTION', 'RESTORE', "õÃ@V@[\x1f#!lua name=mylib\nredis.register_\x0bfunction('my@\x0b\x02', @\x06`\x12\x11keys, args) return`\x0c\x07[1] end)\n\x00\x8dY6\xadÆç\x07Ú", 'REPLACE'),
    ('FUNCTION', 'RESTORE', "õÃ@V@[\x1f#!lua name=mylib\nredis.register_\x0bfunction('my@\x0b\x02', @\x06`\x12\x11keys, args) return`\x0c\x07[1] end)\n\x00\x8dY6\xadÆç\x07Ú", 'FLUSH'),
    ('FUNCTION', 'DUMP'),
    ('FUNCTION', 'RESTORE', 'ö\x00\n\x00\x00\x00\x00\x00\x00\x00\x00\x00'),
    ('FUNCTION', 'RESTORE', '\x00\x00\n\x00\x00\x00\x00\x00\x00\x00\x00\x00'),
    ('FUNCTION', 'RESTORE', '\n\x00\x00\x00\x00\x00\x00\x00\x00\x00'),
    ('FUNCTION', 'RESTORE', '\x0b\x00\x00\x00\x00\x00\x00\x00\x00\x00'),
    ('FUNCTION', 'FLUSH'),
    ('FUNCTION', 'DUMP'),
]

LIBRARY = "#!lua name=mylib\nredis.register_function('myfunc', function(keys, args) return args[1] end)"


@pytest.fixture
def fresh(diff):
    diff.both("FUNCTION", "FLUSH")
    diff.both("SCRIPT", "FLUSH")
    yield diff
    diff.both("FUNCTION", "FLUSH")


def test_session_matches_redis(fresh):
    for command in SESSION:
        fresh.check(*command)


def test_help_and_arity(fresh):
    fresh.check("FUNCTION", "HELP")
    fresh.check("FUNCTION")
    fresh.check("FUNCTION", "NOPE")
    fresh.check("FUNCTION", "LOAD")
    fresh.check("FUNCTION", "DELETE")
    fresh.check("FUNCTION", "DUMP", "x")
    fresh.check("FUNCTION", "STATS", "x")
    fresh.check("FUNCTION", "KILL", "x")
    fresh.check("FUNCTION", "FLUSH", "x")
    fresh.check("FUNCTION", "FLUSH", "sync", "x")
    fresh.check("FUNCTION", "RESTORE", "x", "y", "z")
    fresh.check("FUNCTION", "RESTORE", "x", "bogus")
    fresh.check("FUNCTION", "LIST", "bogus")
    fresh.check("FUNCTION", "LIST", "LIBRARYNAME")
    fresh.check("FUNCTION", "LIST", "WITHCODE", "WITHCODE")
    fresh.check("FUNCTION", "LOAD", "x", "y")
    fresh.check("FCALL")
    fresh.check("FCALL", "f")
    fresh.check("FCALL_RO", "f")


def test_list_filters_and_resp3(fresh):
    fresh.check("FUNCTION", "LOAD", "#!lua name=alpha\nredis.register_function{function_name='a1', "
                "callback=function() return 1 end, description='first', flags={'no-writes', 'allow-oom'}}")
    fresh.check("FUNCTION", "LOAD", "#!lua name=beta\nredis.register_function('b1', function() return 2 end)")
    fresh.check("FUNCTION", "LIST", "LIBRARYNAME", "ALP*")
    fresh.check("FUNCTION", "LIST", "LIBRARYNAME", "b?ta", "WITHCODE")
    fresh.check("FUNCTION", "LIST", "WITHCODE", "LIBRARYNAME", "nomatch")
    fresh.check_unordered("FUNCTION", "LIST")
    fresh.check("FUNCTION", "STATS")
    fresh.ours.call("HELLO", "3")
    fresh.theirs.call("HELLO", "3")
    fresh.check("FUNCTION", "LIST", "LIBRARYNAME", "alpha")
    fresh.check("FUNCTION", "LIST", "LIBRARYNAME", "beta", "WITHCODE")
    fresh.check("FUNCTION", "STATS")
    fresh.check("FCALL", "a1", "0")


def test_fcall_keys_args_and_errors(fresh):
    fresh.check("FUNCTION", "LOAD", "#!lua name=kv\n"
                "redis.register_function('setget', function(keys, args)\n"
                "  redis.call('set', keys[1], args[1])\n"
                "  return {redis.call('get', keys[1]), #keys, #args}\n"
                "end)")
    fresh.check("FCALL", "setget", "1", "key", "value", "extra")
    fresh.check("FCALL", "SETGET", "1", "key", "v2")
    fresh.check("FCALL_RO", "setget", "1", "key", "v2")
    fresh.check("FCALL", "setget", "2", "key")
    fresh.check("FCALL", "setget", "-1")
    fresh.check("FCALL", "setget", "1.5", "k")
    fresh.check("FCALL", "nosuch", "0")
    fresh.check("GET", "key")


def test_read_only_functions(fresh):
    fresh.check("FUNCTION", "LOAD", "#!lua name=ro\n"
                "redis.register_function{function_name='reader', flags={'no-writes'}, "
                "callback=function(keys) return redis.call('get', keys[1]) end}\n"
                "redis.register_function{function_name='sneaky', flags={'no-writes'}, "
                "callback=function(keys) return redis.call('set', keys[1], 'x') end}")
    fresh.check("SET", "k", "v")
    fresh.check("FCALL_RO", "reader", "1", "k")
    fresh.check("FCALL", "reader", "1", "k")
    fresh.check("FCALL_RO", "sneaky", "1", "k")
    fresh.check("FCALL", "sneaky", "1", "k")
    fresh.check("GET", "k")


def test_dump_and_restore(fresh):
    fresh.check("FUNCTION", "LOAD", LIBRARY)
    payload = fresh.check("FUNCTION", "DUMP")
    data = payload.split(b"\r\n", 1)[1][:-2]
    fresh.check("FUNCTION", "RESTORE", data)
    fresh.check("FUNCTION", "RESTORE", data, "APPEND")
    fresh.check("FUNCTION", "RESTORE", data, "REPLACE")
    fresh.check("FUNCTION", "RESTORE", data, "FLUSH")
    fresh.check("FUNCTION", "LIST", "WITHCODE")
    fresh.check("FCALL", "myfunc", "0", "restored")
    # A payload with a function of the same name in another library.
    fresh.check("FUNCTION", "DELETE", "mylib")
    fresh.check("FUNCTION", "LOAD", "#!lua name=other\nredis.register_function('myfunc', function() return 1 end)")
    fresh.check("FUNCTION", "RESTORE", data)
    fresh.check("FUNCTION", "RESTORE", data, "REPLACE")
    fresh.check("FUNCTION", "RESTORE", data, "FLUSH")
    fresh.check("FUNCTION", "LIST")
    # Damaged payloads.
    fresh.check("FUNCTION", "RESTORE", data[:-1] + bytes([data[-1] ^ 1]))
    fresh.check("FUNCTION", "RESTORE", data[:5])
    fresh.check("FUNCTION", "RESTORE", b"\x0b\x00" + b"\x00" * 8)
    empty = fresh.check("FUNCTION", "DUMP")
    fresh.check("FUNCTION", "FLUSH")
    fresh.check("FUNCTION", "DUMP")
    fresh.check("FUNCTION", "RESTORE", empty.split(b"\r\n", 1)[1][:-2])


def test_restore_payload_from_the_other_server(fresh):
    """A DUMP from real Redis restores on Vermilion and the other way round."""
    fresh.theirs.call("FUNCTION", "LOAD", LIBRARY)
    theirs = fresh.theirs.call("FUNCTION", "DUMP").split(b"\r\n", 1)[1][:-2]
    assert fresh.ours.call("FUNCTION", "RESTORE", theirs) == b"+OK\r\n"
    ours = fresh.ours.call("FUNCTION", "DUMP").split(b"\r\n", 1)[1][:-2]
    assert ours == theirs
    fresh.theirs.call("FUNCTION", "FLUSH")
    assert fresh.theirs.call("FUNCTION", "RESTORE", ours) == b"+OK\r\n"
    fresh.check("FUNCTION", "LIST", "WITHCODE")


def test_load_timeout(fresh):
    fresh.check("FUNCTION", "LOAD", "#!lua name=slow\nlocal i = 0 while true do i = i + 1 end")
    fresh.check("FUNCTION", "LIST")


def test_dirty_counting_matches_redis(fresh):
    def changes(connection):
        info = connection.call("INFO", "persistence").decode()
        return int(next(line.split(":")[1] for line in info.split("\r\n")
                        if line.startswith("rdb_changes_since_last_save")))

    before = changes(fresh.ours), changes(fresh.theirs)
    fresh.check("FUNCTION", "LOAD", LIBRARY)
    fresh.check("FUNCTION", "LOAD", LIBRARY)
    fresh.check("FUNCTION", "DELETE", "mylib")
    fresh.check("FUNCTION", "FLUSH")
    assert changes(fresh.ours) - before[0] == changes(fresh.theirs) - before[1]


def test_info_counts(fresh):
    def figures(connection):
        info = connection.call("INFO", "memory").decode()
        return [line for line in info.split("\r\n")
                if line.startswith(("number_of_functions", "number_of_libraries"))]

    fresh.check("FUNCTION", "LOAD", LIBRARY)
    fresh.check("FUNCTION", "LOAD", "#!lua name=two\nredis.register_function('t1', function() end)\n"
                "redis.register_function('t2', function() end)")
    assert figures(fresh.ours) == figures(fresh.theirs)


@FIXTURE_SETTINGS
@given(comment=st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=200),
       name=st.text(alphabet="abcdefghijklmnopqrstuvwxyz_0123456789", min_size=1, max_size=12))
def test_dump_payload_property(fresh, comment, name):
    """FUNCTION DUMP (an RDB string, LZF-compressed when that pays) is byte-identical."""
    fresh.both("FUNCTION", "FLUSH")
    code = f"#!lua name={name}\n-- {comment}\nredis.register_function('f', function() return '{name}' end)\n"
    fresh.check("FUNCTION", "LOAD", code)
    fresh.check("FUNCTION", "DUMP")
