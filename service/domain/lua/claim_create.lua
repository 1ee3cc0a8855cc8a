-- claim_create.lua (store_claim.c)
-- KEYS: claim, claims, claims:f:FLEET. ARGV: id, prefix, fleet, fields... (created and updated
-- are Redis's time, server_time)
-- Answers 1; fw_error CONFLICT when the claim exists.
local _, now = server_time()
if redis.call('EXISTS', KEYS[1]) == 1 then return fw_error('CONFLICT', 'claim exists') end
redis.call('HSET', KEYS[1], CLAIM_F_CREATED, now, CLAIM_F_UPDATED, now, unpack(ARGV, 4))
redis.call('ZADD', KEYS[2], now, ARGV[1])
redis.call('ZADD', KEYS[3], now, ARGV[1])
reindex(ARGV[2], ARGV[1], ARGV[3], now, false, 'creating')
return 1
