-- claim_rotation_take.lua (store_claim.c)
-- KEYS[1] claims:rotdue. ARGV: due time ms (the caller's), most ids. Takes the claims whose
-- rotation is due. Answers their ids.
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
if #ids > 0 then redis.call('ZREM', KEYS[1], unpack(ids)) end
return ids
