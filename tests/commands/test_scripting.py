"""Lua scripting: EVAL/EVALSHA/EVAL_RO, SCRIPT, the redis.* API, the sandbox and the libraries.

Differential against real Redis 7.0 (exact reply bytes) unless noted. Most cases are a script run
with ``EVAL <script> 0`` on both servers.
"""

from __future__ import annotations

import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.resp_raw import RawConnection

FIXTURE_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# Scripts compared as EVAL <script> 0: conversions both ways, errors with their line, the
# redis.* API, the sandbox, pcall/xpcall/coroutines.
SCRIPTS = [
    "return redis.call('get')",
    "return redis.call('set','a')",
    "return redis.call('config','nosuch')",
    "return redis.call('client','list')",
    'return redis.call()',
    'return redis.call({})',
    "return redis.call('get', {})",
    "redis.call('set','s','x') return redis.call('incr','s')",
    "return redis.pcall('incr','s')",
    "error({err='MY boom'})",
    "error({err='boom'})",
    'error(nil)',
    'error(12)',
    'error(true)',
    "return {err='X y'}",
    "return {err='xy'}",
    "return redis.error_reply('My Err')",
    "return redis.error_reply('-My Err')",
    "return redis.error_reply('')",
    "return redis.status_reply('FINE')",
    'return redis.error_reply(1)',
    'return redis.status_reply(1)',
    'local x = 1 +',
    'return 1.9',
    'return -1.9',
    'return {1,2,nil,4}',
    "return {1,{2,{3,'x'}},true,false}",
    "return {ok='a\r\nb'}",
    'return {double=3.5}',
    'return {map={a=1}}',
    'return {set={a=true}}',
    "return {big_number='123'}",
    'return true',
    'return false',
    'return nil',
    "return {1, err='x'}",
    'return {err=1}',
    'return {ok=1}',
    'return {a=1}',
    'return 1e20',
    'return -1e20',
    'return 0/0',
    'return 1/0',
    "return redis.status_reply('')",
    "return {err='x\\r\\ny'}",
    "return {err=''}",
    "return {err='-'}",
    "return {err='-FOO'}",
    "return {verbatim_string={format='txt', string='hi'}}",
    "return {double='3.5'}",
    'return {double=0/0}',
    'return {double=1/0}',
    'return {double=1e300}',
    'return {double=0.1}',
    "return {big_number='1\\r\\n2'}",
    'return {big_number=12}',
    "redis.setresp(3) return redis.call('hgetall','nokey')",
    "return {1, {ok='x'}, {err='E y'}, 2}",
    'return {map={a={1,2}}, set={x=true}}',
    'return {map={}}',
    'return {1.5, -2.7, 3}',
    'return 2^53+0.5',
    'return 9007199254740993',
    'return function() end',
    'return {function() end, 2}',
    'return coroutine.create(function() end)',
    'return {x=1, y=2, z=3}',
    'return {map={x=1, y=2, z=3, w=4, v=5}}',
    'return {set={x=true, y=true, z=true, w=true}}',
    "#!lua\nerror('x')",
    '#!lua',
    "#!lua flags=no-writes\nreturn redis.call('set','a','b')",
    '#!lua flags=no-writes,allow-oom\nreturn 1',
    '#!lua flags=bogus\nreturn 1',
    '#!lua name=foo\nreturn 1',
    '#!python\nreturn 1',
    '#! lua\nreturn 1',
    '#!\nreturn 1',
    '#!lua flags=\nreturn 1',
    '#!lua   flags=no-writes  \nreturn 1',
    '#!lua "flags=no-writes"\nreturn 1',
    '#!lua "unbalanced\nreturn 1',
    "#!lua flags=no-cluster,allow-stale\nreturn redis.call('set','x','y')",
    "return {pcall(redis.call, 'nosuch')}",
    "return {pcall(error, {err='X y'})}",
    "return {pcall(error, 'boom')}",
    "local ok, e = pcall(redis.call, 'nosuch') return type(e)",
    "local ok, e = pcall(error, {err='X y', extra=1}) return type(e)",
    "local e = redis.pcall('nosuch') return e.err",
    "local e = redis.pcall('incr', 's') return {e.err, tostring(e.ignore_error_stats_update)}",
    "return redis.sha1hex('')",
    'return redis.sha1hex(1)',
    'return redis.sha1hex()',
    'return redis.sha1hex({})',
    'return redis.REDIS_VERSION',
    'return redis.REDIS_VERSION_NUM',
    'return redis.breakpoint()',
    "return redis.debug('x')",
    'return redis.replicate_commands()',
    'return redis.set_repl(redis.REPL_ALL)',
    'return redis.set_repl(99)',
    'return redis.set_repl()',
    'return {redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL}',
    'return {redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING}',
    "return redis.log(redis.LOG_WARNING, 'hello', 'world', 1, {})",
    'return redis.log(redis.LOG_WARNING)',
    "return redis.log('x', 'y')",
    "return redis.log(9, 'y')",
    "return redis.log('3', 'y')",
    'return redis.setresp(4)',
    'return redis.setresp()',
    "return redis.setresp('3')",
    "redis.setresp(3) return redis.call('ping')",
    "return redis.acl_check_cmd('get','x')",
    "return redis.acl_check_cmd('nosuch')",
    'return redis.acl_check_cmd()',
    'local t = {} for k in pairs(redis) do t[#t+1] = k end table.sort(t) return t',
    'return redis.status_reply()',
    "return redis.error_reply('a', 'b')",
    'return redis.register_function',
    'redis.call = nil',
    '_G.x = 1',
    "rawset(_G, 'x', 1) return x",
    'local t = {} setmetatable(_G, t)',
    'return os',
    'return type(loadfile)',
    'return print',
    'return type(debug)',
    'return type(require)',
    'return _VERSION',
    'local n=0 for k,v in pairs(_G) do n=n+1 end return n',
    'local t={} for k,v in pairs(_G) do table.insert(t,k) end table.sort(t) return t',
    "getmetatable('').__index = {}",
    "getmetatable('').x = 1 return 1",
    'local m = getmetatable(_G) return {type(m), type(m.__index), type(m.__newindex)}',
    'local m = getmetatable(_G) m.__index = nil',
    'string.x = 1',
    'string.format = 1',
    'cjson.x = 1',
    'redis.x = 1',
    'table.insert(redis, 1)',
    "rawset(redis, 'x', 1)",
    'setmetatable(redis, {})',
    'return getmetatable(redis)',
    'return type(getmetatable(string))',
    "return rawget(_G, 'redis') ~= nil",
    "return rawget(_G, 'nosuch') == nil",
    'return next(_G) ~= nil',
    'local e = getfenv(1) return e == _G',
    'setfenv(1, {})',
    "local f = loadstring('return 1+1') return f()",
    "local f = loadstring('x = 1') return f()",
    "return loadstring('return +')",
    "local f, e = loadstring('return +') return e",
    'local a = {} a.b.c = 1',
    'local a = nil return a.b',
    "return #redis.call('keys', '*') >= 0",
    "return string.rep('x', 3)",
    'return coroutine.wrap(function() coroutine.yield(5) end)()',
    'return tostring(newproxy)',
    'return type(gcinfo())',
    'return _G._G == _G',
    'return string.dump ~= nil',
    "return type(collectgarbage('count'))",
    'return type(unpack)',
    'return math.huge',
    'return math.pi',
    'return tostring(0.1)',
    'return tostring(1e100)',
    "return 'a' .. 1.5",
    'return __redis__err__handler ~= nil',
    'return type(__redis__err__handler)',
    "return __redis__err__handler('x')",
    "local t = __redis__err__handler('x') return {t.err, t.source, t.line}",
    'return {loadstring(string.dump(function() return 1 end))}',
    'local f = loadstring(string.dump(function() return 1 end)) return f()',
    'return select(2, loadstring(string.dump(function() return 1 end)))',
    'return {load(function() return nil end)}',
    'local s = string.dump(function() return 1 end) local done = false return {load(function() if done then return nil end done = true return s end)}',
    'return pcall()',
    'local a, b = pcall() return {type(a), type(b), tostring(a), tostring(b)}',
    'local a, b = pcall(nil) return {type(a), type(b), tostring(a), tostring(b)}',
    'return {pcall(function() return 1, 2 end)}',
    'return {pcall(function() error({err=5}) end)}',
    'return {pcall(function() error(nil) end)}',
    'return {pcall(function() error({}) end)}',
    "return select('#', pcall(function() error({}) end))",
    "return {xpcall(function() error('x') end, function(e) return 'h:' .. e end)}",
    "return bit.band('x')",
    'return bit.band()',
    "return {pcall(bit.band, 'x')}",
    "return tostring(nil .. 'x')",
    'return string.rep()',
    'return math.random(0)',
    'return math.random(1,2,3)',
    "return math.random('x')",
    'return math.randomseed()',
    'math.randomseed(42) return {math.random(1000000), math.random(1000000)}',
    'math.randomseed(7) return {math.random(), math.random(3, 9), math.random(100)}',
    "local t = {} table.insert(t, 'a') table.insert(t, 1, 'b') return t",
    'local t = {} table.insert(t, 1, 2, 3) return t',
    "local t = setmetatable({}, {__index=function(t,k) return k .. '!' end}) return t.x",
    "local t = setmetatable({}, {__metatable='locked'}) return getmetatable(t)",
    "local t = setmetatable({}, {__metatable='locked'}) setmetatable(t, {})",
    'return rawget({}, 1, 2)',
    'return next({})',
    'for k, v in pairs(string) do end return 1',
    'local t = {} for k, v in pairs(table) do t[#t+1] = k end table.sort(t) return t',
    'local t = {} for k, v in pairs(math) do t[#t+1] = k end table.sort(t) return t',
    'local t = {} for k, v in pairs(string) do t[#t+1] = k end table.sort(t) return t',
    'local t = {} for k, v in pairs(coroutine) do t[#t+1] = k end table.sort(t) return t',
    "return {('x'):rep(3), ('%d'):format(5)}",
    "local co = coroutine.create(function() redis.call('nosuch') end) local ok, e = coroutine.resume(co) return {tostring(ok), type(e), e.err}",
    "return coroutine.wrap(function() error('in co') end)()",
    "return coroutine.wrap(function() redis.call('nosuch') end)()",
    "local ok, e = pcall(function() return cjson.decode('{') end) return e",
    "return xpcall(function() redis.call('nosuch') end, function(e) return type(e) end)",
    "local ok, e = xpcall(function() redis.call('nosuch') end, function(e) return e.err end) return e",
    "\n\nerror('third line')",
    "local function f() error('deep') end\nlocal function g() f() end\ng()",
    "local function f() return redis.call('nosuch') end\nreturn f()",
    'local t = {} t.x.y = 1',
    "return redis.call('select', 100)",
    "return redis.pcall('select', 100)",
    "return redis.call('echo', 'x')",
    "return redis.call('ping')",
    "redis.call('select', 1) redis.call('set', 'k', 'v1') return redis.call('get','k')",
    "return redis.call('blpop', 'nolist', 0)",
    "return redis.call('eval', 'return 1', 0)",
    "return redis.call('subscribe', 'x')",
    "return redis.call('hello', 3)",
]

# Sessions of commands run in order on both servers (script cache state carries over).
SESSION = [
    ("SCRIPT", "FLUSH"),
    ("EVAL_RO", "return redis.call('set','x','y')", "0"),
    ("EVAL_RO", "return redis.call('get','x')", "0"),
    ("EVAL_RO", "#!lua\nreturn redis.call('get','x')", "0"),
    ("EVAL_RO", "#!lua flags=no-writes\nreturn redis.call('get','x')", "0"),
    ("EVALSHA", "abc", "0"),
    ("EVALSHA", "ffffffffffffffffffffffffffffffffffffffff", "0"),
    ("EVALSHA_RO", "ffffffffffffffffffffffffffffffffffffffff", "0"),
    ("EVAL", "return 1", "x"),
    ("EVAL", "return 1", "-1"),
    ("EVAL", "return 1", "1"),
    ("EVAL", "return 1", "01"),
    ("EVAL", "return {KEYS[1], ARGV[1], #KEYS, #ARGV}", "1", "k", "a"),
    ("EVAL", "return {KEYS[2], ARGV[2], #KEYS, #ARGV}", "2", "k1", "k2", "a1", "a2", "a3"),
    ("EVAL", "KEYS[1] = 'z' return KEYS[1]", "1", "k"),
    ("EVAL", "return KEYS[1]", "0"),
    ("EVAL", "KEYS = 1", "1", "k"),
    ("SCRIPT", "HELP"),
    ("SCRIPT", "FLUSH", "BOGUS"),
    ("SCRIPT", "FLUSH", "SYNC", "x"),
    ("SCRIPT", "EXISTS"),
    ("SCRIPT", "EXISTS", "a", "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"),
    ("SCRIPT", "LOAD", "return 1"),
    ("SCRIPT", "EXISTS", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db",
     "E0E1F9FABFC9D4800C877A703B823AC0578FF8DB"),
    ("SCRIPT", "LOAD"),
    ("SCRIPT", "LOAD", "a", "b"),
    ("SCRIPT", "KILL"),
    ("SCRIPT", "KILL", "x"),
    ("SCRIPT", "LOAD", "return +"),
    ("SCRIPT", "LOAD", "#!lua flags=x\nreturn 1"),
    ("FUNCTION", "KILL"),
    ("SCRIPT", "NOPE"),
    ("SCRIPT",),
    ("EVALSHA", "E0E1F9FABFC9D4800C877A703B823AC0578FF8DB", "0"),
    ("EVALSHA_RO", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"),
    ("SCRIPT", "FLUSH", "ASYNC"),
    ("SCRIPT", "EXISTS", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db"),
    ("EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"),
    ("EVAL", "return 1", "0"),
    ("SCRIPT", "FLUSH", "sync"),
    ("EVAL",),
    ("EVAL", "return 1"),
    ("EVALSHA", "x"),
]

LIBRARIES = [
    'return cjson.encode({1,2,3})',
    'return cjson.encode({a=1})',
    'return cjson.encode({})',
    'return cjson.encode(\'a/b"c\\\\d\\n\\1\\127\\200\')',
    'return cjson.encode(1.5)',
    'return cjson.encode(0.1)',
    'return cjson.encode(1e100)',
    'return cjson.encode(123456789012345678)',
    'return cjson.encode(1/0)',
    'return cjson.encode(0/0)',
    'return cjson.encode(true)',
    'return cjson.encode(nil)',
    'return cjson.encode(cjson.null)',
    'return cjson.encode({1, nil, 3})',
    'return cjson.encode({[1]=1, [2]=2, [4]=4})',
    'return cjson.encode({[1]=1, [20]=2})',
    'return cjson.encode({[1]=1, [11]=2})',
    'return cjson.encode({[0]=1})',
    'return cjson.encode({[1.5]=1})',
    'return cjson.encode({[true]=1})',
    'return cjson.encode({a={b={c={}}}})',
    'return cjson.encode(function() end)',
    'return cjson.encode({f=function() end})',
    'return cjson.encode()',
    'return cjson.encode(1, 2)',
    'local t = {} t[1] = t return cjson.encode(t)',
    'return cjson.encode({x=1, y=2, z=3, w=4})',
    "return cjson.encode({['1']=1, [2]=2})",
    'return cjson.encode({1, 2, x=3})',
    'return cjson.encode(redis.call)',
    "return cjson.encode('\\0')",
    'return cjson.encode({[-1]=1})',
    "return cjson.decode('[1,2,3]')",
    'return cjson.decode(\'{"a":1}\').a',
    'return cjson.decode(\'"\\\\u00e9\\\\ud83d\\\\ude00"\')',
    "return cjson.decode('1.5e3')",
    "return tostring(cjson.decode('0.1'))",
    "return type(cjson.decode('null'))",
    "return cjson.decode('null') == cjson.null",
    'return tostring(cjson.null)',
    "return cjson.decode('{bad')",
    "return cjson.decode('')",
    "return cjson.decode('[1,2')",
    "return cjson.decode('[1,]')",
    'return cjson.decode(\'{"a" 1}\')',
    "return cjson.decode('{1:2}')",
    "return cjson.decode('tru')",
    'return cjson.decode(\'"abc\')',
    'return cjson.decode(\'"a\\\\qb"\')',
    'return cjson.decode(\'"\\\\u12"\')',
    "return cjson.decode('1 2')",
    "return cjson.decode('  [ ]  ')",
    "return cjson.decode('nan')",
    "return cjson.decode('Infinity')",
    "return cjson.decode('-0x10')",
    "return cjson.decode('0x10')",
    "return cjson.decode('01')",
    "return cjson.decode('1.')",
    "return cjson.decode('.5')",
    "return cjson.decode('-')",
    'return cjson.decode(\'"\\t"\')',
    'return cjson.decode(123)',
    'return cjson.decode()',
    'return cjson.decode({})',
    "return cjson.decode(string.rep('[', 1001) .. string.rep(']', 1001))",
    "return #cjson.decode(string.rep('[', 1000) .. string.rep(']', 1000))",
    'return cjson.encode(cjson.decode(\'{"a":[1,2,{"b":null}],"c":"x"}\'))',
    'local t = {} for k in pairs(cjson) do t[#t+1] = k end table.sort(t) return t',
    'return {cjson._NAME, cjson._VERSION}',
    'return cjson.encode_keep_buffer()',
    'return {cjson.encode_max_depth()}',
    'return {cjson.decode_max_depth()}',
    'return {cjson.encode_number_precision()}',
    'return {cjson.encode_sparse_array()}',
    'return {cjson.encode_invalid_numbers()}',
    'return {cjson.decode_invalid_numbers()}',
    "return cjson.encode(string.rep('x', 3))",
    'local t = {} for k in pairs(cmsgpack) do t[#t+1] = k end table.sort(t) return t',
    'local t = {} for k in pairs(bit) do t[#t+1] = k end table.sort(t) return t',
    'local t = {} for k in pairs(struct) do t[#t+1] = k end table.sort(t) return t',
    'return {cmsgpack._NAME, cmsgpack._VERSION, cmsgpack._COPYRIGHT, cmsgpack._DESCRIPTION}',
    "return cmsgpack.pack({1,2,3}, 'abc', {a=1}, 1.5, -1, 300, -300, true, false, nil, 2^40, 0.1)",
    'return cmsgpack.pack()',
    "return {cmsgpack.unpack(cmsgpack.pack(1, 'x', {1,2}))}",
    'return {cmsgpack.unpack_one(cmsgpack.pack(1, 2))}',
    'return {cmsgpack.unpack_one(cmsgpack.pack(1, 2), 1)}',
    'return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2)}',
    'return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), -1)}',
    'return {cmsgpack.unpack_one(cmsgpack.pack(1, 2), 10)}',
    'return {cmsgpack.unpack()}',
    "return cmsgpack.pack(string.rep('x', 40))",
    'local t = {} t[1] = t return cmsgpack.pack(t)',
    'return cmsgpack.pack({[1]=1,[3]=3})',
    'return cmsgpack.pack({})',
    'return cmsgpack.pack(2^63, -2^63, 2^31, 1e300, 0/0)',
    "return {struct.pack('>I2', 258), struct.pack('<i', -2), struct.pack('b', 200), struct.pack('d', 1.5), struct.pack('f', 0.1), struct.pack('s', 'ab'), struct.pack('c3', 'abcd'), struct.pack('!4 b i', 1, 2), struct.pack('l', 1), struct.pack('c0', 'xyz'), struct.pack('x')}",
    "return {struct.unpack('>I2', '\\1\\2')}",
    "return {struct.unpack('<i', struct.pack('<i', -2))}",
    "return {struct.unpack('b c0', '\\3abcdef')}",
    "return {struct.unpack('s', 'ab\\0cd')}",
    "return {struct.unpack('s', 'abcd')}",
    "return {struct.unpack('i', 'ab')}",
    "return {struct.unpack('i', 'abcdefgh', 5)}",
    "return {struct.unpack('i', 'abcdefgh', 10)}",
    "return struct.pack('z', 1)",
    "return struct.pack('i33', 1)",
    "return struct.pack('!3', 1)",
    "return struct.pack('i', 'x')",
    "return struct.pack('c3', 'ab')",
    "return struct.size('i')",
    "return struct.size('s')",
    "return struct.size('c0')",
    "return struct.size('!8 b d')",
    "return struct.unpack('c0', 'abc')",
    "return {struct.unpack('d', struct.pack('d', 0.1))}",
    "return tostring(struct.unpack('f', struct.pack('f', 0.1)))",
    "return struct.pack('i99999999999', 1)",
    "return struct.pack('i16', -1)",
    "return {struct.unpack('i16', struct.pack('i16', -1))}",
    "return {bit.tobit(2^32+5), bit.tobit(-1), bit.bnot(0), bit.band(0xff, 0x0f, 0x3), bit.bor(1,2,4), bit.bxor(3,5), bit.lshift(1, 31), bit.rshift(-1, 28), bit.arshift(-256, 4), bit.rol(0x12345678, 8), bit.ror(0x12345678, 8), bit.bswap(0x12345678), bit.tohex(255), bit.tohex(-1, -4), bit.tohex(255, 2), bit.tobit(1.5), bit.tobit(2.5), bit.tobit(-1.5), bit.tobit('10'), bit.tobit(2^53)}",
    "return bit.tobit('x')",
    'return bit.tohex(1, 0)',
    'return bit.tobit(1/0)',
    'return bit.tobit(2^60 + 2^33 + 7)',
    "return {cmsgpack.unpack('\\193')}",
    "return {cmsgpack.unpack('\\146\\1')}",
    "return {cmsgpack.unpack('\\207\\255\\255\\255\\255\\255\\255\\255\\255')}",
    "return tostring(cmsgpack.unpack('\\202\\63\\192\\0\\0'))",
    "return {cmsgpack.unpack(cmsgpack.pack({a=1,b={1,2,{c=true}}}, 'x', -5, 3.25))}",
    'local t = cmsgpack.unpack(cmsgpack.pack({a=1,b={1,2,{c=true}}})) return {t.a, t.b[1], t.b[3].c}',
    "return cmsgpack.pack(string.rep('x', 300))",
    "return #cmsgpack.pack(string.rep('x', 70000))",
    'local t = {} for i=1,20 do t[i]=i end return cmsgpack.pack(t)',
    "local t = {} for i=1,20 do t['k'..i]=i end return cmsgpack.pack(t)",
    "return {cmsgpack.unpack('\\196\\1a')}",
    "return {cmsgpack.unpack('\\217')}",
    'return cjson.encode({[1]=1,[2]=2,[3]=3,[4]=4,[5]=5,[6]=6,[7]=7,[8]=8,[9]=9,[10]=10,[12]=12})',
    "return cjson.encode({['a b']='c\\127', [3.5]=1e-7})",
    "return cjson.decode('[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20]')",
    'local t = cjson.decode(\'{"z":1,"y":2,"x":3,"w":4,"v":5,"u":6}\') local r = {} for k, v in pairs(t) do r[#r+1] = k end return r',
    'return cjson.encode(cjson.decode(\'{"z":1,"y":2,"x":3,"w":4,"v":5,"u":6}\'))',
    "return cjson.encode({cjson.null, true, false, 'x'})",
    'cjson.encode_max_depth(2) return cjson.encode({{{1}}})',
    'return cjson.encode_max_depth(0)',
    'return cjson.encode_max_depth(1, 2)',
    'return cjson.encode_number_precision(15)',
    'cjson.encode_max_depth(1000) return cjson.encode_max_depth()',
    'return cjson.decode(\'"\\\\ud800"\')',
    'return cjson.decode(\'"\\\\udc00"\')',
    'return cjson.decode(\'"\\\\u0000"\')',
    'return cjson.decode(\'["a" "b"]\')',
    'return cjson.decode(\'{"a":1,}\')',
    'return cjson.decode(\'{"a":1 "b"}\')',
    "return cjson.decode('[true, false, null]')",
    "return cjson.decode('\\0[1]')",
    "return cjson.decode('+1')",
    "return cjson.decode('-Infinity')",
    "return cjson.decode('[1e5,2E-3]')",
    'local c = cjson.new() return c.encode({1})',
    "return struct.pack('>d', 0.1)",
    "return struct.pack('<h>h', 1, 1)",
    "return {struct.unpack('>h<H', '\\255\\254\\1\\0')}",
    "return struct.pack('!8 b d', 1, 2)",
    "return struct.pack('bbb', 1)",
    "return struct.pack('I3', 70000)",
    "return {struct.unpack('i3', struct.pack('i3', -5))}",
    "return struct.pack('B', -1)",
    "return struct.pack('B', 256.7)",
    "return {struct.unpack('B', 'x', 0)}",
    "return {struct.unpack('B', 'x', 2)}",
    "return {struct.unpack('B', 'x', 3)}",
    'return struct.pack()',
    "return struct.unpack('B')",
    "return struct.size('!4 i b i')",
    "return struct.size('<>!')",
    "return struct.size('z')",
    "return struct.pack('c', 'ab')",
    "return {bit.band(1, 'x')}",
    'return {bit.lshift(1, 32), bit.lshift(1, 33), bit.rshift(256, -1), bit.rol(1, 31), bit.ror(1, 1)}',
    'return {bit.tohex(65535, 16), bit.tohex(-1, -20), bit.bnot(-1), bit.tobit(4294967295), bit.tobit(-4294967296)}',
    'return bit.tohex(1, nil)',
    'return {bit.bxor(1, 2, 4, 8), bit.band(), 1}',
]

# RESP3 callers see maps, sets, doubles, booleans, big numbers and verbatim strings as such.
RESP3_SCRIPTS = [
    "return {map={a=1, b={1, 2}}}",
    "return {set={a=true}}",
    "return {double=1.5}",
    "return {double=0/0}",
    "return {double=-1/0}",
    "return {big_number='12345678901234567890'}",
    "return {verbatim_string={format='txt', string='hi'}}",
    "return {verbatim_string={format='markdown', string='hi'}}",
    "return {verbatim_string={format='a', string='hi'}}",
    "return true",
    "return false",
    "return nil",
    "redis.setresp(3) return false",
    "redis.setresp(3) return true",
    "redis.setresp(3) return {true, false, nil}",
    "redis.call('hset', 'h', 'a', '1') return redis.call('hgetall', 'h')",
    "redis.call('hset', 'h', 'a', '1') redis.setresp(3) return redis.call('hgetall', 'h')",
    "redis.call('sadd', 's', 'a') redis.setresp(3) return redis.call('smembers', 's')",
    "redis.setresp(3) return redis.call('get', 'nosuch')",
    "redis.setresp(3) local v = redis.call('get', 'nosuch') return type(v)",
    "redis.call('hset', 'h', 'a', '1') redis.setresp(3) local m = redis.call('hgetall', 'h') return m.map.a",
    "redis.call('sadd', 's', 'x') redis.setresp(3) local m = redis.call('smembers', 's') return tostring(m.set.x)",
    "redis.call('zadd', 'z', 1.5, 'm') redis.setresp(3) return redis.call('zscore', 'z', 'm')",
    "redis.call('zadd', 'z', 1.5, 'm') redis.setresp(3) local d = redis.call('zscore', 'z', 'm') return tostring(d.double)",
    "return {1, {err='E nested'}, {ok='fine'}}",
]


@pytest.fixture
def fresh(diff):
    """Both servers with empty script caches (and keyspaces)."""
    diff.both("SCRIPT", "FLUSH")
    diff.both("FUNCTION", "FLUSH")
    return diff


@pytest.mark.parametrize("script", SCRIPTS)
def test_script_matches_redis(fresh, script):
    fresh.check("EVAL", script, "0")


@pytest.mark.parametrize("script", RESP3_SCRIPTS)
def test_script_resp3_matches_redis(fresh, script):
    fresh.ours.call("HELLO", "3")
    fresh.theirs.call("HELLO", "3")
    fresh.check("EVAL", script, "0")


@pytest.mark.parametrize("script", RESP3_SCRIPTS)
def test_resp3_scripts_resp2_caller(fresh, script):
    fresh.check("EVAL", script, "0")


def test_session_matches_redis(fresh):
    for command in SESSION:
        fresh.check(*command)


@pytest.mark.parametrize("command", LIBRARIES)
def test_library_matches_redis(fresh, command):
    fresh.check(*command)


def test_notes_session(fresh):
    """The money transfer of the notes, twice (the second one lacks the funds)."""
    transfer = (
        "local from_balance = tonumber(redis.call('GET', KEYS[1])) "
        "local to_balance = tonumber(redis.call('GET', KEYS[2])) "
        "if from_balance >= tonumber(ARGV[1]) then "
        "redis.call('SET', KEYS[1], from_balance - ARGV[1]) "
        "redis.call('SET', KEYS[2], to_balance + ARGV[1]) return 'Transfer successful' "
        "else return 'Insufficient funds' end"
    )
    fresh.check("MSET", "account1", "100", "account2", "20")
    assert fresh.check("EVAL", transfer, "2", "account1", "account2", "50") == b"$19\r\nTransfer successful\r\n"
    assert fresh.check("EVAL", transfer, "2", "account1", "account2", "80") == b"$18\r\nInsufficient funds\r\n"
    assert fresh.check("MGET", "account1", "account2") == b"*2\r\n$2\r\n50\r\n$2\r\n70\r\n"
    sha = fresh.check("SCRIPT", "LOAD", "return redis.call('GET', KEYS[1])")
    assert sha == b"$40\r\nd3c21d0c2b9ca22f82737626a27bcaf5d288f99f\r\n"
    fresh.check("EVALSHA", "d3c21d0c2b9ca22f82737626a27bcaf5d288f99f", "1", "account1")


def test_select_inside_a_script_leaves_the_caller_alone(fresh):
    fresh.check("EVAL", "redis.call('select', 1) redis.call('set', 'k', 'v1') return redis.call('get', 'k')", "0")
    fresh.check("GET", "k")
    fresh.check("SELECT", "1")
    fresh.check("GET", "k")
    fresh.check("DEL", "k")
    fresh.check("SELECT", "0")


def test_script_reads_the_callers_database(fresh):
    fresh.check("SELECT", "2")
    fresh.check("SET", "k", "two")
    fresh.check("EVAL", "return redis.call('get', 'k')", "0")
    fresh.check("DEL", "k")
    fresh.check("SELECT", "0")


def test_blocking_commands_in_a_script(fresh):
    # BLPOP and friends are "noscript"; XREAD BLOCK answers at once inside a script.
    fresh.check("EVAL", "return redis.call('blpop', 'nolist', 0)", "0")
    fresh.check("EVAL", "return redis.pcall('brpoplpush', 'a', 'b', 0)", "0")


def test_eval_inside_multi(fresh):
    fresh.check("MULTI")
    fresh.check("EVAL", "return redis.call('incr', KEYS[1])", "1", "n")
    fresh.check("EVAL", "return redis.call('incr', KEYS[1])", "1", "n")
    fresh.check("EVAL", "return redis.call('nosuch')", "0")
    fresh.check("EXEC")
    fresh.check("GET", "n")


def _section(raw: bytes, section: str) -> list[str]:
    text = raw.split(b"\r\n", 1)[1].decode()
    return sorted(line for line in text.splitlines() if line and not line.startswith("#"))


@pytest.mark.parametrize("script", [
    "return redis.call('nosuch')",
    "return redis.pcall('nosuch')",
    "redis.call('set', 's', 'x') return redis.call('incr', 's')",
    "redis.call('set', 's', 'x') return redis.pcall('incr', 's')",
    "return redis.call()",
    "return redis.pcall()",
    "return {err='My thing'}",
    "error('x')",
    "return {1, {err='NEST e'}, {err='NEST f'}}",
    "redis.call('set', 's', 'x') local e = redis.pcall('incr', 's') return 'fine'",
    "redis.call('set', 's', 'x') local e = redis.pcall('incr', 's') return {err='after'}",
    "local e = redis.pcall('nosuch') return 'fine'",
    "local e = redis.pcall('nosuch') redis.call('ping') return 'fine'",
    "return redis.error_reply('CUSTOM oops')",
])
def test_error_statistics_match_redis(fresh, script):
    fresh.both("CONFIG", "RESETSTAT")
    fresh.check("EVAL", script, "0")
    ours = _section(fresh.ours.call("INFO", "errorstats"), "errorstats")
    theirs = _section(fresh.theirs.call("INFO", "errorstats"), "errorstats")
    assert ours == theirs
    assert _eval_counts(fresh.ours) == _eval_counts(fresh.theirs)


def _eval_counts(connection) -> list[str]:
    """The commandstats lines of EVAL and INCR without their timings."""
    lines = _section(connection.call("INFO", "commandstats"), "commandstats")
    kept = []
    for line in lines:
        name, fields = line.split(":", 1)
        if name in ("cmdstat_eval", "cmdstat_incr"):
            kept.append(name + ":" + ",".join(f for f in fields.split(",") if "usec" not in f))
    return kept


def test_dirty_counting_matches_redis(fresh):
    def changes(connection):
        info = connection.call("INFO", "persistence").decode()
        return int(next(line.split(":")[1] for line in info.split("\r\n") if line.startswith("rdb_changes_since_last_save")))
    before = changes(fresh.ours), changes(fresh.theirs)
    fresh.check("EVAL", "redis.call('set', 'a', '1') redis.call('incr', 'a') redis.call('get', 'a') return 1", "0")
    fresh.check("EVAL", "return redis.call('get', 'a')", "0")
    assert changes(fresh.ours) - before[0] == changes(fresh.theirs) - before[1]


def test_script_cache_info(fresh):
    def cached(connection):
        info = connection.call("INFO", "memory").decode()
        return int(next(line.split(":")[1] for line in info.split("\r\n") if line.startswith("number_of_cached_scripts")))
    fresh.check("SCRIPT", "LOAD", "return 1")
    fresh.check("EVAL", "return 2", "0")
    fresh.check("EVAL", "return +", "0")
    assert cached(fresh.ours) == cached(fresh.theirs) == 2
    fresh.check("SCRIPT", "FLUSH")
    assert cached(fresh.ours) == cached(fresh.theirs) == 0


def test_random_is_seeded_like_redis(fresh):
    script = "math.randomseed(%d) return {math.random(1000000), math.random(), math.random(-5, 5)}"
    for seed in (0, 1, 42, -7, 123456789):
        fresh.check("EVAL", script % seed, "0")


def test_redis_log_writes_the_server_log(server, tmp_path):
    from vermilion.testing import run_in_server

    logfile = tmp_path / "vermilion.log"
    run_in_server(server, lambda: server.config.set("logfile", str(logfile)))
    quiet = server.quiet
    server.quiet = False
    try:
        conn = RawConnection(server.port)
        assert conn.call("EVAL", "redis.log(redis.LOG_WARNING, 'hello', 'from', 42) return 1", "0") == b":1\r\n"
        assert conn.call("EVAL", "redis.log(redis.LOG_DEBUG, 'not shown') return 1", "0") == b":1\r\n"
        conn.close()
    finally:
        server.quiet = quiet
        run_in_server(server, lambda: server.config.set("logfile", ""))
    text = logfile.read_text()
    assert "# hello from 42" in text
    assert "not shown" not in text


# -- the busy state: other clients get BUSY, SCRIPT KILL / FUNCTION KILL --------------------------

BOUNDED_WRITER = (
    "redis.call('set','x','1') local t0 = redis.call('time') "
    "while true do local t = redis.call('time') "
    "if (t[1]-t0[1])*1000000 + (t[2]-t0[2]) > 1200000 then break end end return 'done'"
)


def _busy_session(port: int, command: tuple, kill: tuple | None) -> dict:
    """Run ``command`` (a long script) from one client and look at the server from others."""
    setup = RawConnection(port)
    setup.call("CONFIG", "SET", "busy-reply-threshold", "200")
    other = RawConnection(port)
    other.call("PING")
    results: dict = {}

    def runner() -> None:
        connection = RawConnection(port)
        results["script"] = connection.call(*command)
        connection.close()

    thread = threading.Thread(target=runner)
    thread.start()
    try:
        time.sleep(0.5)
        results["ping"] = other.call("PING")
        results["get"] = other.call("GET", "x")
        newcomer = RawConnection(port)
        results["newcomer"] = newcomer.call("PING")
        stats = other.call("FUNCTION", "STATS")
        results["stats"] = stats.split(b"duration_ms")[0]
        results["multi"] = other.call("MULTI")
        results["queued"] = other.call("GET", "x")
        results["discard"] = other.call("DISCARD")
        if kill is not None:
            wrong = ("FUNCTION", "KILL") if kill[0] == "SCRIPT" else ("SCRIPT", "KILL")
            results["wrong_kill"] = other.call(*wrong)
            results["kill"] = other.call(*kill)
    finally:
        thread.join(10)
        setup.call("CONFIG", "SET", "busy-reply-threshold", "5000")
    results["after"] = other.call("PING")
    results["newcomer_after"] = newcomer.call("PING")
    for connection in (setup, other, newcomer):
        connection.close()
    return results


def test_script_kill_stops_a_looping_script(fresh, server, oracle_port):
    command = ("EVAL", "local i = 0 while true do i = i + 1 end", "0")
    ours = _busy_session(server.port, command, ("SCRIPT", "KILL"))
    theirs = _busy_session(oracle_port, command, ("SCRIPT", "KILL"))
    assert ours == theirs
    assert ours["ping"].startswith(b"-BUSY Redis is busy running a script.")
    assert ours["script"].startswith(b"-ERR Script killed by user with SCRIPT KILL...")


def test_a_script_that_wrote_cannot_be_killed(fresh, server, oracle_port):
    command = ("EVAL", BOUNDED_WRITER, "0")
    ours = _busy_session(server.port, command, ("SCRIPT", "KILL"))
    theirs = _busy_session(oracle_port, command, ("SCRIPT", "KILL"))
    assert ours == theirs
    assert ours["kill"].startswith(b"-UNKILLABLE")
    assert ours["script"] == b"$4\r\ndone\r\n"


def test_function_kill_stops_a_looping_function(fresh, server, oracle_port):
    code = "#!lua name=looplib\nredis.register_function('loop', function() while true do end end)"
    fresh.check("FUNCTION", "LOAD", code)
    ours = _busy_session(server.port, ("FCALL", "loop", "0"), ("FUNCTION", "KILL"))
    theirs = _busy_session(oracle_port, ("FCALL", "loop", "0"), ("FUNCTION", "KILL"))
    assert ours == theirs
    assert ours["script"] == b"-ERR Script killed by user with SCRIPT KILL... script: loop, on @user_function:2.\r\n"


@pytest.mark.parametrize("script", [
    "while true do pcall(function() while true do end end) end",
    "local ok, e = pcall(function() while true do end end) return {ok, e}",
    "return coroutine.wrap(function() while true do end end)()",
    "local co = coroutine.create(function() while true do end end) return {coroutine.resume(co)}",
])
def test_killing_scripts_that_catch_errors_or_use_coroutines(fresh, server, oracle_port, script):
    command = ("EVAL", script, "0")
    ours = _busy_session(server.port, command, ("SCRIPT", "KILL"))
    theirs = _busy_session(oracle_port, command, ("SCRIPT", "KILL"))
    assert ours == theirs


# -- property tests against real Redis --------------------------------------------------------------

def lua_literal(value) -> str:
    """A Lua expression for a Python value (str, int, float, bool, None, list, dict)."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return '"' + "".join(ch if ch.isalnum() or ch in " _-.,:" else "\\%03d" % ord(ch) for ch in value) + '"'
    if isinstance(value, list):
        return "{" + ", ".join(lua_literal(item) for item in value) + "}"
    return "{" + ", ".join(f"[{lua_literal(k)}] = {lua_literal(v)}" for k, v in value.items()) + "}"


scalars = st.one_of(
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=False, allow_infinity=False, width=64).filter(lambda x: x != 0 or str(x) == "0.0"),
    st.text(alphabet=st.characters(min_codepoint=1, max_codepoint=255), max_size=12),
    st.booleans(),
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(st.text(alphabet="abcdefghij", min_size=1, max_size=4), children, max_size=5),
    ),
    max_leaves=12,
)


@FIXTURE_SETTINGS
@given(value=values)
def test_cjson_encode_property(fresh, value):
    fresh.check("EVAL", f"return cjson.encode({lua_literal(value)})", "0")


@FIXTURE_SETTINGS
@given(value=values)
def test_cmsgpack_round_trip_property(fresh, value):
    literal = lua_literal(value)
    fresh.check("EVAL", f"return cmsgpack.pack({literal})", "0")
    fresh.check("EVAL", f"return cjson.encode({{cmsgpack.unpack(cmsgpack.pack({literal}))}})", "0")


def test_cjson_encodes_negative_zero_in_tables(fresh):
    # lupa hands Lua's -0 to Python as the int 0; cjson writes "-0" in arrays and objects.
    for script in ("return cjson.encode({cjson.decode(ARGV[1])})",
                   "return cjson.encode({a = cjson.decode(ARGV[1]), b = 0, c = {1, -0.0}})",
                   "return cjson.encode({0, 1, cjson.decode(ARGV[1]), 0})"):
        fresh.check("EVAL", script, "0", "-0")
        fresh.check("EVAL", script, "0", "0")


@FIXTURE_SETTINGS
@given(text=st.text(alphabet=' {}[]":,0123456789.eE+-tfnrulas\\\\/', max_size=30))
def test_cjson_decode_property(fresh, text):
    fresh.check("EVAL", "local ok, v = pcall(cjson.decode, ARGV[1]) return cjson.encode({ok, v})", "0", text)


@FIXTURE_SETTINGS
@given(numbers=st.lists(st.integers(min_value=-(2**53), max_value=2**53), min_size=2, max_size=4),
       op=st.sampled_from(["band", "bor", "bxor", "lshift", "rshift", "arshift", "rol", "ror", "tohex"]))
def test_bit_property(fresh, numbers, op):
    args = ", ".join(str(n) for n in numbers[:2] if op in ("lshift", "rshift", "arshift", "rol", "ror", "tohex")) \
        or ", ".join(str(n) for n in numbers)
    if op not in ("lshift", "rshift", "arshift", "rol", "ror", "tohex"):
        args = ", ".join(str(n) for n in numbers)
    fresh.check("EVAL", f"return {{bit.{op}({args}), bit.tobit({numbers[0]}), bit.bnot({numbers[1]}), bit.bswap({numbers[0]})}}", "0")


@FIXTURE_SETTINGS
@given(fmt=st.lists(st.sampled_from(["b", "B", "h", "H", "i", "I", "l", "L", "i3", "I7", "<", ">", "!", "!2", "x", "d", "f"]), min_size=1, max_size=6),
       number=st.integers(min_value=-(2**31), max_value=2**31))
def test_struct_property(fresh, fmt, number):
    spec = "".join(fmt)
    count = sum(1 for item in fmt if item[0] not in "<>!x")
    args = ", ".join([str(number)] * count)
    packed = f"struct.pack('{spec}'{', ' + args if args else ''})"
    fresh.check("EVAL", f"local s = {packed} return {{s, struct.size('{spec}'), struct.unpack('{spec}', s)}}", "0")


# -- units -----------------------------------------------------------------------------------------


def test_shebang_parser():
    from vermilion.errors import RedisError
    from vermilion.scripting.state import FLAG_EVAL_COMPAT_MODE, FLAG_NO_WRITES, parse_shebang

    assert parse_shebang(b"return 1") == (FLAG_EVAL_COMPAT_MODE, 0)
    assert parse_shebang(b"#!lua flags=no-writes\nreturn 1") == (FLAG_NO_WRITES, 21)
    with pytest.raises(RedisError):
        parse_shebang(b"#!lua")


def test_lzf_round_trip_and_rdb_strings():
    from vermilion.persistence.rdbstring import RdbReader, encode_string, lzf_compress, lzf_decompress

    data = b"#!lua name=lib\n" + b"redis.register_function('f', function() return 1 end)\n" * 20
    packed = lzf_compress(data, len(data) - 4)
    assert packed is not None and len(packed) < len(data)
    assert lzf_decompress(packed, len(data)) == data
    for value in (b"", b"0", b"-1", b"127", b"128", b"-32768", b"2147483647", b"2147483648", b"abc", data):
        assert RdbReader(encode_string(value)).read_string() == value
    assert encode_string(b"12") == b"\xc0\x0c"


@given(data=st.binary(max_size=600))
@settings(max_examples=200, deadline=None)
def test_lzf_round_trip_property(data):
    from vermilion.persistence.rdbstring import lzf_compress, lzf_decompress

    packed = lzf_compress(data, len(data) + 64) if data else None
    if data:
        assert lzf_decompress(packed, len(data)) == data


def _blocked_pop(port: int, script: str) -> tuple[bytes, bytes]:
    waiter = RawConnection(port)
    waiter.send_raw(b"*3\r\n$5\r\nBLPOP\r\n$4\r\nlist\r\n$1\r\n0\r\n")
    time.sleep(0.2)
    writer = RawConnection(port)
    reply = writer.call("EVAL", script, "1", "list")
    served = waiter.read_reply()
    waiter.close()
    writer.close()
    return reply, served


def test_blocked_clients_are_served_after_the_script(fresh, server, oracle_port):
    script = "redis.call('rpush', KEYS[1], 'a', 'b') return redis.call('llen', KEYS[1])"
    assert _blocked_pop(server.port, script) == _blocked_pop(oracle_port, script)
    fresh.check("LRANGE", "list", "0", "-1")


def test_many_keys_and_arguments(fresh):
    keys = [f"k{i}" for i in range(150)]
    args = [f"a{i}" for i in range(120)]
    fresh.check("EVAL", "return {#KEYS, #ARGV, KEYS[150], ARGV[120], KEYS[1], ARGV[1]}", "150", *keys, *args)
    fresh.check("FUNCTION", "LOAD", "#!lua name=many\nredis.register_function('many', "
                "function(keys, args) return {#keys, #args, keys[150], args[120]} end)")
    fresh.check("FCALL", "many", "150", *keys, *args)


def test_numbers_passed_to_commands(fresh):
    fresh.check("EVAL", "redis.call('set', 'a', 0.1) redis.call('set', 'b', 1e20) redis.call('set', 'c', -3) "
                "return redis.call('mget', 'a', 'b', 'c')", "0")
    fresh.check("EVAL", "return redis.call('incrbyfloat', 'f', 1.5)", "0")
