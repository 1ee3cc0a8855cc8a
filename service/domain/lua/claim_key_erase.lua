-- claim_key_erase.lua (store_claim.c)
-- KEYS: claim, claimkey. ARGV: the reason. Deletes the sealed key and says why on the claim.
-- Answers 1 when there was a key, else 0.
local had = redis.call('DEL', KEYS[2])
if redis.call('EXISTS', KEYS[1]) == 1 and had == 1 then
  redis.call('HSET', KEYS[1], CLAIM_F_KEY_HELD, '0', CLAIM_F_KEY_ERASED_REASON, ARGV[1])
end
return had
