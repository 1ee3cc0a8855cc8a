-- incident_transition.lua - (store_watch.c) KEYS[1] the incident. ARGV: prefix, new state, note,
-- now ms, now ISO (the caller's). Answers 1 changed, 0 already in that state; fw_error NOTFOUND
-- (no such incident), CONFLICT (it is resolved).
local p, to, note, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local h = redis.call('HMGET', KEYS[1], 'state', 'seq', 'id', 'fleet', 'subject', 'rule')
local st = h[1]
if not st then return fw_error('NOTFOUND', 'no such incident') end
if st == to then return 0 end
if st == 'resolved' then return fw_error('CONFLICT', 'the incident is resolved') end
redis.call('ZREM', p .. 'incs:s:' .. st, h[3])
redis.call('ZADD', p .. 'incs:s:' .. to, h[2], h[3])
redis.call('HSET', KEYS[1], 'state', to, 'updatedAt', now)
if note ~= '' then redis.call('HSET', KEYS[1], 'note', note) end
if to == 'acknowledged' then
  redis.call('HSET', KEYS[1], 'ackAt', now)
else
  redis.call('HSET', KEYS[1], 'resolvedAt', now)
  local ok = p .. 'incopen:' .. h[4] .. ':' .. h[5] .. ':' .. h[6]
  if redis.call('GET', ok) == h[3] then redis.call('DEL', ok) end
end
inc_event(p, KEYS[1], to, ARGV[5])
return 1
