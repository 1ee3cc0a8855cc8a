-- renew: ARGV P, lease_ms, id1, token1, id2, token2, ...
-- Heartbeat for every job a process runs: extends the lease of each job
-- its token still holds (prelude.lua lease_member). Returns the ids that
-- need attention, prefixed "l:" (lease lost: stop, the job belongs to
-- someone else) or "c:" (cancel requested).
local lease = tonumber(ARGV[2])
local now = server_time()
local out = {}
for i = 3, #ARGV, 2 do
  local id, tok = ARGV[i], ARGV[i + 1]
  local member = lease_member(id, tok)
  if not redis.call('ZSCORE', P .. 'running', member) then
    out[#out + 1] = 'l:' .. id .. '|' .. tok
  else
    redis.call('ZADD', P .. 'running', 'XX', now + lease, member)
    if redis.call('HGET', jk(id), JOB_F_CANCEL) == '1' then out[#out + 1] = 'c:' .. id .. '|' .. tok end
  end
end
return out
