-- claim: ARGV P, worker, lease_ms, lane1, lane2, lane3.
-- Promotes due delayed jobs, then pops one job from the lanes in the given
-- order, gives it a new fencing token and a lease in P.."running".
-- Returns {id, token, type, payload, attempts, max, runs, rlpaid} or
-- {"", next_due_ms (-1 when none), now}.
local worker, lease = ARGV[2], tonumber(ARGV[3])
local now = now_ms()
local due = redis.call('ZRANGEBYSCORE', P .. 'delayed', '-inf', now, 'LIMIT', 0, 100)
for _, id in ipairs(due) do
  redis.call('ZREM', P .. 'delayed', id)
  local h = redis.call('HMGET', jk(id), 'state', 'lane', 'seq')
  if h[1] == 'scheduled' or h[1] == 'failed' then
    redis.call('HDEL', jk(id), 'next')
    redis.call('RPUSH', P .. 'q:' .. h[2], id)
    move_state(id, h[1], 'queued', h[3], now)
  end
end
for i = 4, 6 do
  while true do
    local id = redis.call('RPOP', P .. 'q:' .. ARGV[i])
    if not id then break end
    local k = jk(id)
    local h = redis.call('HMGET', k, 'state', 'seq', 'type', 'payload', 'max', 'rlpaid')
    if h[1] == 'queued' then
      local tok = redis.call('INCR', P .. 'token')
      local att = redis.call('HINCRBY', k, 'attempts', 1)
      local runs = redis.call('HINCRBY', k, 'runs', 1)
      redis.call('HSET', k, 'token', tok, 'worker', worker, 'lease', now + lease,
        'started', now, 'rlpaid', 0)
      redis.call('ZADD', P .. 'running', now + lease, id)
      move_state(id, 'queued', 'running', h[2], now)
      return {id, tostring(tok), h[3], h[4], att, tonumber(h[5]), runs, h[6] or '0'}
    end
  end
end
local nxt = redis.call('ZRANGE', P .. 'delayed', 0, 0, 'WITHSCORES')
if nxt[2] then return {'', tonumber(nxt[2]), now} end
return {'', -1, now}
