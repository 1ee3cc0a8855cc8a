-- runner.lua - definitions every script fleetwarden runs in Redis may use
-- (service/redis/lua_embed.py puts in those a script refers to, before the
-- folder's own prelude). The rules they serve are in service/redis/script.h.

-- Clock: Redis server time in epoch ms, as a number and as its decimal text
-- (made from TIME's text without number formatting, which costs Lua a
-- sprintf). Scripts read the time here, never from an argument; C passes
-- durations only.
local function server_time()
  local t = redis.call('TIME')
  local text = t[1] .. string.sub('00000' .. t[2], -6, -4)
  return tonumber(text), text
end

-- Errors: an expected outcome other than success, as an error reply
-- "FW_E<code> why" that the C runner (service/redis/reply.c) maps onto
-- FW_E<code> of service/core/err.h, e.g. return fw_error('CONFLICT', 'lease lost').
-- Return it before the first write: Redis keeps writes made before an error.
-- (why is required: Redis puts "ERR " before an error reply without a space.)
local function fw_error(code, why)
  return redis.error_reply('FW_E' .. code .. ' ' .. why)
end

-- Batches (service/redis/script_group.h): one EVALSHA that stands for several
-- calls of one script, sent by a group of threads. ARGV is the first argument
-- the calls share (the key prefix), then for each call its count of further
-- arguments and those arguments. Runs fn(A, ...) for each call, A being the
-- call's own ARGV (the shared argument first), and answers one element per
-- call, in order: fn's answer, or the error a call raised (the others run
-- all the same, as they would have as scripts of their own).
local function run_batch(fn, ...)
  local out, i, n = {}, 2, #ARGV
  while i <= n do
    local c = tonumber(ARGV[i])
    local ok, r = pcall(fn, {ARGV[1], unpack(ARGV, i + 1, i + c)}, ...)
    if not ok and type(r) ~= 'table' then r = redis.error_reply(tostring(r)) end
    out[#out + 1] = r
    i = i + c + 1
  end
  return out
end
