-- reap: ARGV P, max_stalls, dead_ttl_ms.
-- Returns jobs whose lease expired (their worker died or hung) to the
-- front of their lane; a job that stalls max_stalls times goes dead as a
-- poison job. A stall does not use up an attempt. Then drops index
-- entries whose job hash has expired. Returns {requeued, dead, trimmed}.
local max_stalls, dead_ttl = tonumber(ARGV[2]), tonumber(ARGV[3])
local now = now_ms()
local ids = redis.call('ZRANGEBYSCORE', P .. 'running', '-inf', now, 'LIMIT', 0, 100)
local requeued, dead, trimmed = 0, 0, 0
for _, id in ipairs(ids) do
  redis.call('ZREM', P .. 'running', id)
  local k = jk(id)
  local h = redis.call('HMGET', k, 'state', 'seq', 'lane')
  if h[1] == 'running' then
    local stalls = redis.call('HINCRBY', k, 'stalls', 1)
    redis.call('HINCRBY', k, 'attempts', -1)
    redis.call('HDEL', k, 'token', 'lease', 'worker')
    local msg = 'lease expired (worker lost) ' .. stalls .. ' time(s)'
    push_error(id, cjson.encode({class = 'stalled', code = 'LeaseExpired', message = msg, at = iso(now)}))
    if stalls >= max_stalls then
      redis.call('HSET', k, 'reason', 'poison: ' .. msg)
      redis.call('HINCRBY', P .. 'stats', 'poison', 1)
      finish_terminal(id, 'running', 'dead', h[2], now, dead_ttl)
      dead = dead + 1
    else
      redis.call('RPUSH', P .. 'q:' .. h[3], id)
      move_state(id, 'running', 'queued', h[2], now)
      requeued = requeued + 1
    end
  end
end
if requeued > 0 then wake() end
-- Index trimming walks each index with a saved cursor (P trim:<index>),
-- 500 entries per pass, wrapping around, so every entry is looked at
-- again within (size / 500) passes however long-lived the oldest are.
for _, idx in ipairs({'idx:all', 'st:succeeded', 'st:dead', 'st:canceled', 'dead'}) do
  local ck = P .. 'trim:' .. idx
  local from = redis.call('GET', ck) or '-inf'
  local m = redis.call('ZRANGEBYSCORE', P .. idx, from, '+inf', 'WITHSCORES', 'LIMIT', 0, 500)
  for i = 1, #m, 2 do
    if redis.call('EXISTS', jk(m[i])) == 0 then
      redis.call('ZREM', P .. idx, m[i])
      trimmed = trimmed + 1
    end
  end
  if #m < 1000 then
    redis.call('DEL', ck)
  else
    redis.call('SET', ck, '(' .. m[#m])
  end
end
return {requeued, dead, trimmed}
