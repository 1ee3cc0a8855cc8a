-- token_lookup_rated.lua - a token's fields and the request's rate limits in one round trip
-- (store.c, store_token_lookup_rated). KEYS[1] the token, KEYS[2] the address's window key
-- without its index ('' none). ARGV: address limit, its window in seconds, the token windows' key
-- prefix ('' none), token limit, its window in seconds. Answers {which is full (0 none, 1 address,
-- 2 token), ms left in that window, id, name, scope, lastUsed}.
local f = redis.call('HMGET', KEYS[1], 'id', 'name', 'scope', 'lastUsed')
local which, left = 0, 0
local full, ms = take(KEYS[2], ARGV[1], ARGV[2])
if full then which, left = 1, ms
elseif f[1] and ARGV[3] ~= '' then
  full, ms = take(ARGV[3] .. f[1], ARGV[4], ARGV[5])
  if full then which, left = 2, ms end
end
return {which, left, f[1], f[2], f[3], f[4]}
