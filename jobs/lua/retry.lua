-- retry: ARGV P, id.
-- Requeues a dead, canceled or failed (waiting for its retry) job now,
-- with a fresh attempt budget; the error history is kept.
-- Returns {code, state}: 0 queued, -1 not found, -2 state does not allow
-- it, -3 another active job holds the job's (type, resource) lock.
local id = ARGV[2]
local k = jk(id)
local h = redis.call('HMGET', k, 'state', 'seq', 'lane', 'uniq', 'type', 'resource')
local st = h[1]
if not st then return {-1, ''} end
if st ~= 'dead' and st ~= 'canceled' and st ~= 'failed' then return {-2, st} end
if h[4] == '1' and h[6] ~= '' then
  local uk = P .. 'uniq:' .. h[5] .. ':' .. h[6]
  local cur = redis.call('GET', uk)
  if cur and cur ~= id then
    local cst = redis.call('HGET', jk(cur), 'state')
    if cst and not TERMINAL[cst] then return {-3, st} end
  end
  redis.call('SET', uk, id)
end
local now = now_ms()
redis.call('PERSIST', k)
redis.call('ZREM', P .. 'delayed', id)
redis.call('ZREM', P .. 'dead', id)
redis.call('HSET', k, 'attempts', 0, 'stalls', 0, 'cancel', 0)
redis.call('HDEL', k, 'finished', 'next', 'reason')
redis.call('RPUSH', P .. 'q:' .. h[3], id)
move_state(id, st, 'queued', h[2], now)
wake()
return {0, 'queued'}
