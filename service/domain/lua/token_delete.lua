-- token_delete.lua - deletes a token in one step with the last-admin check, so two admins
-- deleting each other cannot both succeed (store.c, store_token_delete). The count walks every
-- token (there are few). Bumps P tokens:epoch so open event streams notice (token_watch.h).
-- KEYS: tokenid:ID, tokens, tokens:epoch. ARGV: prefix, id.
-- Answers 1; fw_error NOTFOUND for an unknown id, CONFLICT for the last admin token.
local h = redis.call('GET', KEYS[1])
if not h then return fw_error('NOTFOUND', 'no such token') end
local function admin(hash)
  return redis.call('HGET', ARGV[1] .. 'token:' .. hash, 'scope') == 'admin'
end
if admin(h) then
  local n = 0
  for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
    local hh = redis.call('GET', ARGV[1] .. 'tokenid:' .. id)
    if hh and admin(hh) then n = n + 1 end
    if n > 1 then break end
  end
  if n <= 1 then return fw_error('CONFLICT', 'the last admin token') end
end
redis.call('DEL', ARGV[1] .. 'token:' .. h, KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('INCR', KEYS[3])
return 1
