-- token_list.lua - one page of tokens in one round trip (store.c, store_token_list): ids from
-- the index, then each record. Keys are derived inside the script (one Redis, not Cluster).
-- KEYS[1] the index. ARGV: first rank, last rank, the key prefix.
-- Answers {number of ids in the range, {{id, name, scope, created, lastUsed}...}}.
local ids = redis.call('ZRANGE', KEYS[1], ARGV[1], ARGV[2])
local out = {}
for _, id in ipairs(ids) do
  local h = redis.call('GET', ARGV[3] .. 'tokenid:' .. id)
  if h then
    local f = redis.call('HMGET', ARGV[3] .. 'token:' .. h, 'name', 'scope', 'created', 'lastUsed')
    out[#out + 1] = {id, f[1], f[2], f[3], f[4]}
  end
end
return {#ids, out}
