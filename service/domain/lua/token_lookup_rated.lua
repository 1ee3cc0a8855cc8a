-- token_lookup_rated.lua - a token's fields and the request's rate limits in one round trip
-- (store.c, store_token_lookup_rated). KEYS[1] the token, KEYS[2] the address's window ('' none).
-- ARGV: address limit, its ttl, the token windows' key prefix ('' none), the token window's
-- index, token limit, its ttl. Answers {which is full (0 none, 1 address, 2 token), id, name,
-- scope, lastUsed}.
local f = redis.call('HMGET', KEYS[1], 'id', 'name', 'scope', 'lastUsed')
local which = 0
if take(KEYS[2], ARGV[1], ARGV[2]) then which = 1
elseif f[1] and ARGV[3] ~= '' and take(ARGV[3] .. f[1] .. ':' .. ARGV[4], ARGV[5], ARGV[6]) then which = 2 end
return {which, f[1], f[2], f[3], f[4]}
