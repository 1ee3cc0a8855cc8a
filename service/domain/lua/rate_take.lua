-- rate_take.lua - counts one request against an address's and a token's window (store_rate.c).
-- KEYS[1] the address's window, KEYS[2] the token's ('' = not counted).
-- ARGV: address limit, its key's ttl ms, token limit, its ttl ms.
-- Answers 0, or which window is full: 1 the address's, 2 the token's.
if take(KEYS[1], ARGV[1], ARGV[2]) then return 1 end
if take(KEYS[2], ARGV[3], ARGV[4]) then return 2 end
return 0
