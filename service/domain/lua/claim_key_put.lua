-- claim_key_put.lua (store_claim.c)
-- KEYS: claim, claimkey. ARGV: sealed key, ttl s ('updated' is Redis's time). Stores the sealed key again (with its
-- time to live). Answers 1; fw_error NOTFOUND when there is no such claim.
local _, now = server_time()
if redis.call('EXISTS', KEYS[1]) == 0 then return fw_error('NOTFOUND', 'no such claim') end
redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[2])
redis.call('HSET', KEYS[1], CLAIM_F_KEY_HELD, '1', CLAIM_F_UPDATED, now)
return 1
