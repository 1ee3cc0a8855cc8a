-- claim_index_walk.lua - one batch of the walk that builds the claims' state indexes of an
-- upgraded store (store_claim_index.c). KEYS[1] P claims. ARGV: prefix, first rank, count, the
-- states. Answers the number of claims looked at (0: the walk is over).
local p = ARGV[1]
local ids = redis.call('ZRANGE', KEYS[1], ARGV[2], tonumber(ARGV[2]) + tonumber(ARGV[3]) - 1, 'WITHSCORES')
for i = 1, #ids, 2 do
  local id, ms = ids[i], ids[i + 1]
  local f = redis.call('HMGET', p .. 'claim:' .. id, CLAIM_F_STATE, CLAIM_F_FLEET)
  if f[1] and f[2] then
    for s = 4, #ARGV do
      if ARGV[s] ~= f[1] then
        redis.call('ZREM', p .. 'claims:s:' .. ARGV[s], id)
        redis.call('ZREM', p .. 'claims:fs:' .. f[2] .. ':' .. ARGV[s], id)
      end
    end
    redis.call('ZADD', p .. 'claims:s:' .. f[1], ms, id)
    redis.call('ZADD', p .. 'claims:fs:' .. f[2] .. ':' .. f[1], ms, id)
  end
end
return #ids / 2
