-- claim_key_init.lua (store_claim.c)
-- KEYS: claim, claimkey. ARGV: csr, fp, keyType, sealed, ttl ('updated' is Redis's time).
-- Answers 1 recorded, 2 a key was recorded before (kept); fw_error NOTFOUND when there is no such
-- claim.
local _, now = server_time()
if redis.call('EXISTS', KEYS[1]) == 0 then return fw_error('NOTFOUND', 'no such claim') end
if redis.call('HEXISTS', KEYS[1], CLAIM_F_CSR) == 1 then return 2 end
redis.call('SET', KEYS[2], ARGV[4], 'EX', ARGV[5])
redis.call('HSET', KEYS[1], CLAIM_F_CSR, ARGV[1], CLAIM_F_PUBLIC_KEY_FP, ARGV[2], CLAIM_F_KEY_TYPE, ARGV[3],
           CLAIM_F_KEY_HELD, '1', CLAIM_F_UPDATED, now)
return 1
