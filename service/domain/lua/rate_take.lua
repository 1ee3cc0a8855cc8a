-- rate_take.lua - counts one request against an address's and a token's window (store_rate.c).
-- KEYS[1] the address's window key without its index, KEYS[2] the token's ('' = not counted).
-- ARGV: address limit, its window in seconds, token limit, its window in seconds.
-- Answers {0, 0}, or {which window is full: 1 the address's, 2 the token's, ms left in it}.
local full, left = take(KEYS[1], ARGV[1], ARGV[2])
if full then return {1, left} end
full, left = take(KEYS[2], ARGV[3], ARGV[4])
if full then return {2, left} end
return {0, 0}
