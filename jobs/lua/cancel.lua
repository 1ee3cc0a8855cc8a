-- cancel: ARGV P, id, ttl_ms.
-- Queued or waiting jobs are canceled at once; a running job gets its
-- cancel flag (honoured by the handler between steps, and by the next
-- heartbeat). Returns {code, state}: 0 canceled, 1 requested (running),
-- -1 not found, -2 state does not allow it.
local id, ttl = ARGV[2], tonumber(ARGV[3])
local k = jk(id)
local h = redis.call('HMGET', k, 'state', 'seq', 'lane')
local st = h[1]
if not st then return {-1, ''} end
local now = now_ms()
if st == 'queued' then
  redis.call('LREM', P .. 'q:' .. h[3], 0, id)
elseif st == 'scheduled' or st == 'failed' then
  redis.call('ZREM', P .. 'delayed', id)
  local fam = redis.call('HGET', k, 'rlwait')
  if fam then   -- waiting for a rate-limit token (prelude.lua rl_pump)
    redis.call('ZREM', P .. 'rlq:' .. fam, id)
    redis.call('HDEL', k, 'rlwait')
  end
elseif st == 'running' then
  redis.call('HSET', k, 'cancel', 1)
  publish(id, 'running', now)
  return {1, st}
else
  return {-2, st}
end
redis.call('HSET', k, 'cancel', 1)
finish_terminal(id, st, 'canceled', h[2], now, ttl)
return {0, 'canceled'}
