-- claim_transition.lua (store_claim.c)
-- ARGV[1] target state, ARGV[2] allowed states ",a,b,", ARGV[3] prefix, ARGV[4] id, ARGV[5..]
-- fields ('updated' is Redis's time). Returns {1, state before} changed, {2, current
-- state} not allowed from that state (C answers FW_ECONFLICT and says which: data, not an error
-- reply); fw_error NOTFOUND when there is no such claim.
local _, now = server_time()
local f = redis.call('HMGET', KEYS[1], CLAIM_F_STATE, CLAIM_F_FLEET, CLAIM_F_CREATED)
local cur = f[1]
if not cur then return fw_error('NOTFOUND', 'no such claim') end
if not string.find(ARGV[2], ',' .. cur .. ',', 1, true) then return {2, cur} end
redis.call('HSET', KEYS[1], CLAIM_F_STATE, ARGV[1], CLAIM_F_UPDATED, now, unpack(ARGV, 5))
reindex(ARGV[3], ARGV[4], f[2] or '', f[3] or 0, cur, ARGV[1])
return {1, cur}
