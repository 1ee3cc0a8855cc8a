-- claim_idem.lua (store_claim.c)
-- KEYS[1] claimidem:KEYHASH. ARGV: claim id, body hash, ttl s. Binds an Idempotency-Key to a
-- claim. Answers {1, ''} bound now, {2, id} bound before with the same body, {3, id} with another.
local v = redis.call('GET', KEYS[1])
if not v then redis.call('SET', KEYS[1], ARGV[1] .. '|' .. ARGV[2], 'EX', ARGV[3]) return {1, ''} end
local sep = string.find(v, '|', 1, true)
local id, body = string.sub(v, 1, sep - 1), string.sub(v, sep + 1)
return {body == ARGV[2] and 2 or 3, id}
