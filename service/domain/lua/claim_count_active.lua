-- claim_count_active.lua (store_claim.c)
-- KEYS[1] P claims:f:FLEET. ARGV: prefix, fleet, the fleet's uid ("" none: every claim the
-- indexes hold). Counts the fleet's claims in creating, active or rotating. A claim that records
-- another fleetUid is an earlier fleet's of the same name (deleted, then made again) and is not
-- counted. With the state indexes built: their entries (a fleet's live claims, few), else a walk
-- of the fleet's claims.
local p, uid, fs = ARGV[1], ARGV[3], ARGV[1] .. 'claims:fs:' .. ARGV[2] .. ':'
local function ours(id)
  return uid == '' or (redis.call('HGET', p .. 'claim:' .. id, CLAIM_F_FLEET_UID) or uid) == uid
end
local n = 0
if redis.call('GET', p .. 'claims:idx') == claim_index_version then
  for _, s in ipairs({'creating', 'active', 'rotating'}) do
    if uid == '' then
      n = n + redis.call('ZCARD', fs .. s)
    else
      for _, id in ipairs(redis.call('ZRANGE', fs .. s, 0, -1)) do
        if ours(id) then n = n + 1 end
      end
    end
  end
  return n
end
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local s = redis.call('HGET', p .. 'claim:' .. id, CLAIM_F_STATE)
  if (s == 'creating' or s == 'active' or s == 'rotating') and ours(id) then n = n + 1 end
end
return n
