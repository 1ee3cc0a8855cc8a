-- renew: ARGV P, lease_ms, id1, token1, id2, token2, ...
-- Heartbeat for every job a process runs: extends the lease of each job
-- its token still owns. Returns the ids that need attention, prefixed
-- "l:" (lease lost: stop, the job belongs to someone else) or "c:"
-- (cancel requested).
local lease = tonumber(ARGV[2])
local now = now_ms()
local out = {}
for i = 3, #ARGV, 2 do
  local id, tok = ARGV[i], ARGV[i + 1]
  local h = redis.call('HMGET', jk(id), 'token', 'state', 'cancel')
  if h[1] ~= tok or h[2] ~= 'running' then
    out[#out + 1] = 'l:' .. id .. '|' .. tok
  else
    redis.call('ZADD', P .. 'running', 'XX', now + lease, id)
    redis.call('HSET', jk(id), 'lease', now + lease)
    if h[3] == '1' then out[#out + 1] = 'c:' .. id .. '|' .. tok end
  end
end
return out
