"""The Lua side of the scripting engine: sandbox, error handler, RESP conversions.

This chunk runs once in each fresh Lua 5.1 state (one for EVAL, one for functions). It receives
``host`` (a table of Python callables, see engine.Host) and ``kind`` ("eval" or "function") and
returns a table of entry points the Python side calls.

How Redis's sandbox is reproduced with a stock Lua 5.1 (Redis patches its Lua with read-only
tables): every table Redis makes read-only is hidden behind an empty *proxy* table whose
metatable reads through to the real one and refuses writes. Scripts only ever see proxies; the
few base functions that bypass metatables (rawset, rawget, next, pairs, setmetatable,
getmetatable, table.insert) are wrapped to see through proxies and refuse writes. Every chunk a
script can compile (the script itself, loadstring, load) gets the globals proxy as environment.

Functions defined here are "internal" (chunk name ``=vermilion``): the error handler treats a run
of internal frames like the single C function Redis would have there, so the line it reports is
the user's.
"""

PRELUDE = r"""
local host, kind = ...

-- Everything from the stock environment is captured here, before globals are replaced.
local type, tostring, tonumber, select, error = type, tostring, tonumber, select, error
local raw_pcall, raw_xpcall, raw_next, ipairs, unpack = pcall, xpcall, next, ipairs, unpack
local raw_rawget, raw_rawset, rawequal = rawget, rawset, rawequal
local raw_getmetatable, raw_setmetatable = getmetatable, setmetatable
local setfenv, raw_loadstring, raw_load = setfenv, loadstring, load
local collectgarbage, gcinfo, assert = collectgarbage, gcinfo, assert
local string, table, math, coroutine = string, table, math, coroutine
local getinfo, sethook, d_getmetatable = debug.getinfo, debug.sethook, debug.getmetatable
local format, sub, byte, find, gsub, match = string.format, string.sub, string.byte, string.find, string.gsub, string.match
local concat, raw_insert = table.concat, table.insert
local co_create, co_wrap, co_resume = coroutine.create, coroutine.wrap, coroutine.resume

local h_unwrap, h_count_error, h_tick = host.unwrap, host.count_error, host.tick

local INTERNAL = "=vermilion"

-- The environment user code runs in (the globals proxy); every chunk a script can load gets it.
local user_env

-- Values raised by Python code arrive as userdata: turn them into the Lua value they carry.
local function unwrap(e)
  if type(e) == 'userdata' then
    local v = h_unwrap(e)
    if v ~= nil then return v end
  end
  return e
end

-- Argument errors worded and positioned as luaL_argerror words them from a C function. Always
-- called as a statement from the wrapper that stands in for the C function (never as a tail
-- call), so level 2 is that wrapper and level 3 its caller.
local function argerror(narg, extramsg)
  local ar = getinfo(2, 'n')
  local name = ar and ar.name
  if ar and ar.namewhat == 'method' then
    narg = narg - 1
    if narg == 0 then
      error(format("calling '%s' on bad self (%s)", name or '?', extramsg), 3)
    end
  end
  error(format("bad argument #%d to '%s' (%s)", narg, name or '?', extramsg), 3)
end

local function typename(n, ...)
  if select('#', ...) < n then return 'no value' end
  return type((select(n, ...)))
end

-- ---------------------------------------------------------------------------------------------
-- Read-only tables

local real_of = raw_setmetatable({}, {__mode = 'k'})   -- proxy -> real table
local proxy_of = raw_setmetatable({}, {__mode = 'k'})  -- real table -> proxy

local function refuse_write(t, k, v)
  error("Attempt to modify a readonly table", 2)
end

local function protect(t)
  local p = proxy_of[t]
  if p then return p end
  p = raw_setmetatable({}, {__index = t, __newindex = refuse_write})
  real_of[p] = t
  proxy_of[t] = p
  return p
end

local function readonly_error()
  error("Attempt to modify a readonly table", 0)
end

local function w_rawget(...)
  local t, k = ...
  if type(t) ~= 'table' then argerror(1, format("table expected, got %s", typename(1, ...))) end
  if select('#', ...) < 2 then argerror(2, "value expected") end
  local r = real_of[t]
  if r then return raw_rawget(r, k) end
  return raw_rawget(t, k)
end

local function w_rawset(...)
  local t, k, v = ...
  if type(t) ~= 'table' then argerror(1, format("table expected, got %s", typename(1, ...))) end
  local n = select('#', ...)
  if n < 2 then argerror(2, "value expected") end
  if n < 3 then argerror(3, "value expected") end
  if real_of[t] then readonly_error() end
  return raw_rawset(t, k, v)
end

local function w_next(...)
  local t, k = ...
  if type(t) ~= 'table' then argerror(1, format("table expected, got %s", typename(1, ...))) end
  local r = real_of[t]
  if r then return raw_next(r, k) end
  return raw_next(t, k)
end

local function w_pairs(...)
  local t = ...
  if type(t) ~= 'table' then argerror(1, format("table expected, got %s", typename(1, ...))) end
  if real_of[t] then return w_next, t, nil end
  return raw_next, t, nil
end

local function w_getmetatable(...)
  if select('#', ...) < 1 then argerror(1, "value expected") end
  local o = ...
  local r = real_of[o]
  if r then
    local m = raw_getmetatable(r)
    if m == nil then return nil end
    return protect(m)
  end
  local m = raw_getmetatable(o)
  if m ~= nil and type(o) == 'string' then return protect(m) end
  return m
end

local function w_setmetatable(...)
  local t, mt = ...
  if type(t) ~= 'table' then argerror(1, format("table expected, got %s", typename(1, ...))) end
  local tm = type(mt)
  if tm ~= 'nil' and tm ~= 'table' then argerror(2, "nil or table expected") end
  if real_of[t] then readonly_error() end
  local old = d_getmetatable(t)
  if old ~= nil and raw_rawget(old, '__metatable') ~= nil then
    error("cannot change a protected metatable", 2)
  end
  return raw_setmetatable(t, mt)
end

local function w_insert(...)
  local t = ...
  if type(t) ~= 'table' then argerror(1, format("table expected, got %s", typename(1, ...))) end
  local n = select('#', ...)
  if n == 3 then
    local pos = select(2, ...)
    if tonumber(pos) == nil then argerror(2, format("number expected, got %s", typename(2, ...))) end
  elseif n ~= 2 then
    error("wrong number of arguments to 'insert'", 2)
  end
  if real_of[t] then readonly_error() end
  return raw_insert(...)
end

-- Redis's pcall turns an error table carrying a string 'err' into that string (it leaves the
-- nil that lua_getfield pushed when there is none, hence the odd third result).
local function pcall_result(ok, ...)
  if ok then return true, ... end
  local e = unwrap((...))
  if type(e) == 'table' then
    local m = e.err
    local tm = type(m)
    if tm == 'string' or tm == 'number' then return false, m end
    return false, e, m
  end
  return false, e
end

local function w_pcall(...)
  if select('#', ...) == 0 then return false, "attempt to call a boolean value" end
  return pcall_result(raw_pcall(...))
end

local function w_xpcall(f, h)
  return raw_xpcall(f, function(e) return h(unwrap(e)) end)
end

-- Redis's Lua never loads precompiled chunks: they go through the text parser, which rejects
-- them. A leading space gives that without changing line numbers.
local function w_loadstring(...)
  local s, chunkname = ...
  local ts = type(s)
  if ts ~= 'string' and ts ~= 'number' then
    argerror(1, format("string expected, got %s", typename(1, ...)))
  end
  s = tostring(s)
  if chunkname == nil then chunkname = s end
  if byte(s, 1) == 27 then s = " " .. s end
  local f, err = raw_loadstring(s, chunkname)
  if f then setfenv(f, user_env) end
  return f, err
end

local function w_load(...)
  local f, chunkname = ...
  if type(f) ~= 'function' then argerror(1, format("function expected, got %s", typename(1, ...))) end
  local first = true
  local chunk, err = raw_load(function()
    if first then
      first = false
      return " "
    end
    return f()
  end, chunkname)
  if chunk then setfenv(chunk, user_env) end
  return chunk, err
end

-- ---------------------------------------------------------------------------------------------
-- The interrupt hook: Python decides every HOOK_COUNT instructions whether the script goes on
-- (busy-reply-threshold, SCRIPT KILL, FUNCTION LOAD timeout).

local HOOK_COUNT = 100000
local stop_error = nil
local count_hook

-- Level 2 is the function that was running when the hook fired; our own code is never
-- interrupted (it runs only around the script and must finish its bookkeeping).
local function stop_hook()
  if getinfo(2, 'S').source ~= INTERNAL then
    error({err = stop_error})
  end
end

count_hook = function()
  local verdict = h_tick()
  if verdict then
    stop_error = verdict
    -- From now on every line raises again, so pcall cannot keep the script alive.
    sethook(stop_hook, 'l')
    if getinfo(2, 'S').source ~= INTERNAL then
      error({err = verdict})
    end
  end
end

local function arm_hook(co)
  if co then sethook(co, count_hook, '', HOOK_COUNT) else sethook(count_hook, '', HOOK_COUNT) end
end

local function is_lua_function(f)
  return type(f) == 'function' and getinfo(f, 'S').what ~= 'C'
end

local function w_co_create(...)
  local f = ...
  if not is_lua_function(f) then argerror(1, "Lua function expected") end
  local co = co_create(f)
  arm_hook(co)
  return co
end

local function w_co_wrap(...)
  local f = ...
  if not is_lua_function(f) then argerror(1, "Lua function expected") end
  return co_wrap(function(...)
    arm_hook()
    return f(...)
  end)
end

-- Coroutines being resumed through coroutine.resume, innermost last: Python code wording an
-- error like a C function looks at the innermost one's stack (see entry.c_context).
local resuming, resuming_depth = {}, 0

local function resume_result(ok, ...)
  resuming[resuming_depth] = nil
  resuming_depth = resuming_depth - 1
  if ok then return true, ... end
  return false, unwrap((...))
end

local function w_co_resume(...)
  local co = ...
  if type(co) ~= 'thread' then argerror(1, "coroutine expected") end
  resuming_depth = resuming_depth + 1
  resuming[resuming_depth] = co
  return resume_result(co_resume(...))
end

-- ---------------------------------------------------------------------------------------------
-- Error handler: Redis's __redis__err__handler, seeing runs of internal frames as one C frame.

local C_FRAME = {what = 'C'}

local function err_handler(err)
  err = unwrap(err)
  local frames, count = {}, 0
  local level = 2
  while count < 2 do
    local i = getinfo(level, 'nSl')
    if not i then break end
    if i.source == INTERNAL then
      if count == 0 or frames[count].what ~= 'C' then
        count = count + 1
        frames[count] = C_FRAME
      end
    else
      count = count + 1
      frames[count] = i
    end
    level = level + 1
  end
  local i = frames[1]
  if i and i.what == 'C' then i = frames[2] end
  if type(err) ~= 'table' then
    err = {err = 'ERR ' .. tostring(err)}
  end
  if i and i ~= C_FRAME then
    err['source'] = i.source
    err['line'] = i.currentline
  end
  return err
end

-- ---------------------------------------------------------------------------------------------
-- RESP -> Lua (replies of redis.call)

local function error_table(buf, ignore_stats)
  -- luaPushErrorBuff: "-CODE msg" or "msg" (code ERR); C strings end at the first NUL.
  buf = match(buf, "^[^%z]*")
  local code, msg
  if byte(buf, 1) == 45 then
    local sp = find(buf, " ", 1, true)
    if sp then
      code, msg = sub(buf, 2, sp - 1), sub(buf, sp + 1)
    else
      code, msg = "ERR", sub(buf, 2)
    end
  else
    code, msg = "ERR", buf
  end
  msg = gsub(gsub(msg, "^[\r\n]+", ""), "[\r\n]+$", "")
  local t = {}
  t.err = code .. " " .. msg
  if ignore_stats then t.ignore_error_stats_update = true end
  return t
end

local parse

parse = function(s, pos)
  local c = byte(s, pos)
  local e = find(s, "\r\n", pos, true)
  local head = sub(s, pos + 1, e - 1)
  if c == 36 then -- $ bulk string
    local len = tonumber(head)
    if len < 0 then return false, e + 2 end
    return sub(s, e + 2, e + 1 + len), e + 4 + len
  elseif c == 58 then -- : integer
    return tonumber(head), e + 2
  elseif c == 43 then -- + status
    local t = {}
    t.ok = head
    return t, e + 2
  elseif c == 45 then -- - error
    return error_table("-" .. head, true), e + 2
  elseif c == 42 or c == 62 then -- * array, > push
    local n = tonumber(head)
    if n < 0 then return false, e + 2 end
    local t = {}
    pos = e + 2
    for j = 1, n do
      local v
      v, pos = parse(s, pos)
      t[j] = v
    end
    return t, pos
  elseif c == 37 then -- % map
    local n = tonumber(head)
    local m = {}
    pos = e + 2
    for j = 1, n do
      local k, v
      k, pos = parse(s, pos)
      v, pos = parse(s, pos)
      m[k] = v
    end
    local t = {}
    t.map = m
    return t, pos
  elseif c == 126 then -- ~ set
    local n = tonumber(head)
    local m = {}
    pos = e + 2
    for j = 1, n do
      local k
      k, pos = parse(s, pos)
      m[k] = true
    end
    local t = {}
    t.set = m
    return t, pos
  elseif c == 95 then -- _ null
    return nil, e + 2
  elseif c == 35 then -- # boolean
    return head == 't', e + 2
  elseif c == 44 then -- , double
    local t = {}
    t.double = tonumber(head)
    return t, e + 2
  elseif c == 40 then -- ( big number
    local t = {}
    t.big_number = head
    return t, e + 2
  elseif c == 61 then -- = verbatim string
    local len = tonumber(head)
    local body = sub(s, e + 2, e + 1 + len)
    local v = {}
    v.string = sub(body, 5)
    v.format = sub(body, 1, 3)
    local t = {}
    t.verbatim_string = v
    return t, e + 4 + len
  elseif c == 33 then -- ! blob error
    local len = tonumber(head)
    return error_table("-" .. sub(s, e + 2, e + 1 + len), true), e + 4 + len
  elseif c == 124 then -- | attribute: skipped, the reply follows
    local n = tonumber(head)
    pos = e + 2
    for j = 1, 2 * n do
      local _
      _, pos = parse(s, pos)
    end
    return parse(s, pos)
  end
  error("unexpected reply from Redis command")
end

local function parse_reply(s)
  local v = parse(s, 1)
  return v
end

local function ok_table(s)
  local t = {}
  t.ok = s
  return t
end

-- ---------------------------------------------------------------------------------------------
-- Lua -> RESP (what a script returns)

local caller_resp3 = false
local script_resp3 = false

local function null_reply()
  if caller_resp3 then return "_\r\n" end
  return "$-1\r\n"
end

local function c_string(s)
  return match(s, "^[^%z]*")
end

local to_resp

to_resp = function(v, out, n)
  local t = type(v)
  if t == 'string' then
    n = n + 1
    out[n] = format("$%d\r\n", #v)
    n = n + 1
    out[n] = v
    n = n + 1
    out[n] = "\r\n"
    return n
  elseif t == 'number' then
    n = n + 1
    out[n] = format(":%d\r\n", v)
    return n
  elseif t == 'boolean' then
    n = n + 1
    if script_resp3 then
      if caller_resp3 then
        out[n] = v and "#t\r\n" or "#f\r\n"
      else
        out[n] = v and ":1\r\n" or ":0\r\n"
      end
    else
      out[n] = v and ":1\r\n" or null_reply()
    end
    return n
  elseif t ~= 'table' then
    n = n + 1
    out[n] = null_reply()
    return n
  end
  local f = raw_rawget(v, 'err')
  if type(f) == 'string' then
    local msg = v.err
    if type(msg) ~= 'string' and type(msg) ~= 'number' then msg = nil end
    local ignore = v.ignore_error_stats_update
    local line = "-" .. c_string(tostring(msg))
    line = gsub(gsub(line, "[\r\n]+$", ""), "[\r\n]", " ")
    h_count_error(sub(line, 2), type(ignore) == 'boolean' and ignore)
    n = n + 1
    out[n] = line .. "\r\n"
    return n
  end
  f = raw_rawget(v, 'ok')
  if type(f) == 'string' then
    n = n + 1
    out[n] = "+" .. gsub(c_string(f), "[\r\n]", " ") .. "\r\n"
    return n
  end
  f = raw_rawget(v, 'double')
  if type(f) == 'number' then
    local text = format("%.17g", f)
    n = n + 1
    if caller_resp3 then
      out[n] = "," .. text .. "\r\n"
    else
      out[n] = format("$%d\r\n%s\r\n", #text, text)
    end
    return n
  end
  f = raw_rawget(v, 'big_number')
  if type(f) == 'string' then
    local text = gsub(f, "[\r\n]", " ")
    n = n + 1
    if caller_resp3 then
      out[n] = "(" .. text .. "\r\n"
    else
      out[n] = format("$%d\r\n", #text) .. text .. "\r\n"
    end
    return n
  end
  f = raw_rawget(v, 'verbatim_string')
  if type(f) == 'table' then
    local fmt = raw_rawget(f, 'format')
    if type(fmt) == 'string' then
      local str = raw_rawget(f, 'string')
      if type(str) == 'string' then
        n = n + 1
        if caller_resp3 then
          local ext = sub(c_string(fmt) .. "   ", 1, 3)
          out[n] = format("=%d\r\n", #str + 4) .. ext .. ":" .. str .. "\r\n"
        else
          out[n] = format("$%d\r\n", #str) .. str .. "\r\n"
        end
        return n
      end
    end
  end
  f = raw_rawget(v, 'map')
  if type(f) == 'table' then
    n = n + 1
    local head = n
    local count = 0
    for k, val in raw_next, f do
      n = to_resp(k, out, n)
      n = to_resp(val, out, n)
      count = count + 1
    end
    out[head] = caller_resp3 and format("%%%d\r\n", count) or format("*%d\r\n", 2 * count)
    return n
  end
  f = raw_rawget(v, 'set')
  if type(f) == 'table' then
    n = n + 1
    local head = n
    local count = 0
    for k in raw_next, f do
      n = to_resp(k, out, n)
      count = count + 1
    end
    out[head] = caller_resp3 and format("~%d\r\n", count) or format("*%d\r\n", count)
    return n
  end
  n = n + 1
  local head = n
  local j = 1
  while true do
    local item = raw_rawget(v, j)
    if item == nil then break end
    n = to_resp(item, out, n)
    j = j + 1
  end
  out[head] = format("*%d\r\n", j - 1)
  return n
end

local function reply_of(v)
  local t = type(v)
  if t == 'string' then return format("$%d\r\n", #v) .. v .. "\r\n" end
  if t == 'number' then return format(":%d\r\n", v) end
  local out = {}
  local n = to_resp(v, out, 0)
  return concat(out, "", 1, n)
end

-- The outcome of a run for Python: the reply (a string), or false + the error's parts
-- (message, source, line, whether stats were already counted).
local function field_text(t, name)
  local v = t[name]
  local tv = type(v)
  if tv == 'string' or tv == 'number' then return c_string(tostring(v)) end
  return nil
end

local function finish(ok, result)
  if stop_error then
    stop_error = nil
    arm_hook()
  end
  if ok then
    local t = type(result)
    if t == 'number' then return format(":%d\r\n", result) end
    if t == 'string' then return format("$%d\r\n", #result) .. result .. "\r\n" end
    local converted, reply = raw_pcall(reply_of, result)
    if converted then return reply end
    return "-ERR reached lua stack limit\r\n"
  end
  if type(result) ~= 'table' then
    local tr = type(result)
    if tr == 'string' or tr == 'number' then return false, nil, nil, nil, false, tostring(result) end
    return false, nil, nil, nil, false, "execution failure"
  end
  local ignore = result.ignore_error_stats_update
  return false, field_text(result, 'err'), field_text(result, 'source'),
         field_text(result, 'line'), type(ignore) == 'boolean' and ignore
end

-- ---------------------------------------------------------------------------------------------
-- The redis API implemented on this side (the rest are Python callables from host).

local function error_reply(...)
  local n = select('#', ...)
  local s = ...
  if n ~= 1 or type(s) ~= 'string' then
    return error_table("wrong number or type of arguments")
  end
  if byte(s, 1) ~= 45 then s = "-" .. s end
  return error_table(s)
end

local function status_reply(...)
  local n = select('#', ...)
  local s = ...
  if n ~= 1 or type(s) ~= 'string' then
    return error_table("wrong number or type of arguments")
  end
  local t = {}
  t.ok = s
  return t
end

local function always_false() return false end
local function nothing() end
local function always_true() return true end

local function build_redis_api(t, with_debugging)
  t.call = host.call
  t.pcall = host.pcall
  t.log = host.log
  t.LOG_DEBUG = 0
  t.LOG_VERBOSE = 1
  t.LOG_NOTICE = 2
  t.LOG_WARNING = 3
  t.REDIS_VERSION_NUM = host.version_num
  t.REDIS_VERSION = host.version
  t.setresp = host.setresp
  t.sha1hex = host.sha1hex
  t.error_reply = error_reply
  t.status_reply = status_reply
  t.set_repl = host.set_repl
  t.REPL_NONE = 0
  t.REPL_AOF = 1
  t.REPL_SLAVE = 2
  t.REPL_REPLICA = 2
  t.REPL_ALL = 3
  t.acl_check_cmd = host.acl_check_cmd
  if with_debugging then
    -- Outside the debugger (SCRIPT DEBUG is not supported) these do what Redis's do then.
    t.breakpoint = always_false
    t.debug = nothing
    t.replicate_commands = always_true
  end
  return t
end

-- ---------------------------------------------------------------------------------------------
-- The global environment

local function missing_global(t, k)
  local tk = type(k)
  if tk ~= 'string' and tk ~= 'number' then
    error("Second argument to luaProtectedTableError must be a string or number", 2)
  end
  error(format("Script attempted to access nonexistent global variable '%s'", tostring(k)), 2)
end

local error_meta = {__index = missing_global}

-- The stock library tables become the real (hidden) ones, with Redis's replacements.
math.random = host.random
math.randomseed = host.randomseed
table.insert = w_insert
coroutine.create = w_co_create
coroutine.wrap = w_co_wrap
coroutine.resume = w_co_resume
local string_meta = raw_getmetatable("")
string_meta.__index = protect(string)

local G = {}
local P_G = protect(G)
G._G = P_G
G._VERSION = _VERSION
G.assert = assert
G.collectgarbage = collectgarbage
G.error = error
G.gcinfo = gcinfo
G.getmetatable = w_getmetatable
G.ipairs = ipairs
G.load = w_load
G.loadstring = w_loadstring
G.next = w_next
G.pairs = w_pairs
G.pcall = w_pcall
G.rawequal = rawequal
G.rawget = w_rawget
G.rawset = w_rawset
G.select = select
G.setmetatable = w_setmetatable
G.tonumber = tonumber
G.tostring = tostring
G.type = type
G.unpack = unpack
G.xpcall = w_xpcall
G.coroutine = protect(coroutine)
G.table = protect(table)
G.string = protect(string)
G.math = protect(math)
G.cjson = protect(host.cjson)
G.struct = protect(host.struct)
G.cmsgpack = protect(host.cmsgpack)
G.bit = protect(host.bit)

local entry = {}
local run_function  -- the function engine's runner

if kind == 'eval' then
  G.redis = protect(build_redis_api({}, true))
  G.__redis__err__handler = err_handler
  raw_setmetatable(G, error_meta)
  user_env = P_G

  function entry.compile(body)
    local f, err = raw_loadstring(body, "@user_script")
    if f then setfenv(f, user_env) end
    return f, err
  end

  function entry.run(f, resp3, nkeys, ...)
    local keys, argv = {}, {}
    local n = select('#', ...)
    if n > 0 then
      local all = {...}
      for j = 1, nkeys do keys[j] = all[j] end
      for j = nkeys + 1, n do argv[j - nkeys] = all[j] end
    end
    raw_rawset(G, 'KEYS', keys)
    raw_rawset(G, 'ARGV', argv)
    caller_resp3 = resp3
    script_resp3 = false
    local ok, result = raw_xpcall(f, err_handler)
    return finish(ok, result)
  end

  -- The common case of no keys and no arguments, with as little as possible to pass.
  function entry.run0(f, resp3)
    raw_rawset(G, 'KEYS', {})
    raw_rawset(G, 'ARGV', {})
    caller_resp3 = resp3
    script_resp3 = false
    local ok, result = raw_xpcall(f, err_handler)
    return finish(ok, result)
  end

  -- Large argument lists come as Lua tables built on the Python side.
  function entry.run_tables(f, resp3, keys, argv)
    raw_rawset(G, 'KEYS', keys)
    raw_rawset(G, 'ARGV', argv)
    caller_resp3 = resp3
    script_resp3 = false
    local ok, result = raw_xpcall(f, err_handler)
    return finish(ok, result)
  end
else
  -- Functions: library code is loaded with only the load API visible; at run time the globals
  -- read through to the full environment.
  G.redis = protect(build_redis_api({}, false))
  raw_setmetatable(G, error_meta)
  local load_redis = {}
  load_redis.register_function = host.register_function
  load_redis.log = host.log
  load_redis.LOG_DEBUG = 0
  load_redis.LOG_VERBOSE = 1
  load_redis.LOG_NOTICE = 2
  load_redis.LOG_WARNING = 3
  load_redis.REDIS_VERSION_NUM = host.version_num
  load_redis.REDIS_VERSION = host.version
  raw_setmetatable(load_redis, error_meta)
  local load_api = {}
  load_api.redis = protect(load_redis)
  raw_setmetatable(load_api, error_meta)
  local P_LOAD = protect(load_api)
  -- The thread's globals: an empty read-only table reading through to one of the two.
  local globals_meta = {__index = P_G}
  local FG = raw_setmetatable({}, globals_meta)
  user_env = protect(FG)

  function entry.compile(code)
    local f, err = raw_loadstring(code, "@user_function")
    if f then setfenv(f, user_env) end
    return f, err
  end

  function entry.load(f)
    globals_meta.__index = P_LOAD
    local ok, err = raw_pcall(f)
    globals_meta.__index = P_G
    if stop_error then
      stop_error = nil
      arm_hook()
    end
    if ok then return true end
    err = unwrap(err)
    if type(err) == 'table' then
      return false, field_text(err, 'err')
    end
    local te = type(err)
    if te == 'string' or te == 'number' then return false, "ERR " .. c_string(tostring(err)) end
    return false, nil
  end

  function entry.run(f, resp3, nkeys, ...)
    local keys, argv = {}, {}
    local n = select('#', ...)
    if n > 0 then
      local all = {...}
      for j = 1, nkeys do keys[j] = all[j] end
      for j = nkeys + 1, n do argv[j - nkeys] = all[j] end
    end
    caller_resp3 = resp3
    script_resp3 = false
    local ok, result = raw_xpcall(function() return f(keys, argv) end, err_handler)
    return finish(ok, result)
  end

  function entry.run_tables(f, resp3, keys, argv)
    caller_resp3 = resp3
    script_resp3 = false
    local ok, result = raw_xpcall(function() return f(keys, argv) end, err_handler)
    return finish(ok, result)
  end

  function entry.run0(f, resp3)
    return entry.run(f, resp3, 0)
  end

end

arm_hook()

entry.parse_reply = parse_reply
entry.error_table = error_table
entry.ok_table = ok_table
entry.new_table = function() return {} end
entry.memory = function() return collectgarbage('count') end
entry.set_resp3 = function(v) script_resp3 = v end
-- For Python code that words errors like a C function: where it was called from and under
-- what name (on the main thread level 1 is this function, 2 the Python callable, 3 its caller;
-- in a coroutine, levels 0 and 1 of its own stack).
entry.c_context = function()
  local me, caller
  local co = resuming[resuming_depth]
  if co then
    me, caller = getinfo(co, 0, 'n'), getinfo(co, 1, 'Sl')
  else
    me, caller = getinfo(2, 'n'), getinfo(3, 'Sl')
  end
  local where = ""
  if caller and caller.currentline and caller.currentline > 0 then
    where = caller.short_src .. ":" .. caller.currentline .. ": "
  end
  return where, me and me.name, me and me.namewhat
end
return entry
"""
