-- claim_count_active.lua (store_claim.c)
-- With the state indexes built: three ZCARDs; before, a walk of the fleet's claims.
local p, fs = ARGV[1], ARGV[1] .. 'claims:fs:' .. ARGV[2] .. ':'
if redis.call('GET', p .. 'claims:idx') == claim_index_version then
  return redis.call('ZCARD', fs .. 'creating') + redis.call('ZCARD', fs .. 'active') +
         redis.call('ZCARD', fs .. 'rotating')
end
local n = 0
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local s = redis.call('HGET', ARGV[1] .. 'claim:' .. id, CLAIM_F_STATE)
  if s == 'creating' or s == 'active' or s == 'rotating' then n = n + 1 end
end
return n
