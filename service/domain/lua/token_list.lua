-- token_list.lua - one page of tokens, oldest first, in one round trip (store.c,
-- store_token_list): ids from the index (P tokens, scored by creation ms), then each record.
-- Keys are derived inside the script (one Redis, not Cluster).
-- KEYS[1] the index. ARGV: cursor ms ("" from the start), cursor id, limit, the key prefix, an
-- offset ("" none: the offset cursors of earlier versions, still taken).
-- Keyset paging: the cursor is the last token a page gave (score = created ms, member = id);
-- Redis orders equal scores by member, so the page goes on at score > ms, or score == ms and
-- member > id. Deleting a token of an earlier page shifts nothing (an offset did: the next page
-- skipped a token). The start is found by rank (ZCOUNT of the older scores); then the entries of
-- the cursor's own millisecond at or below its id are passed over (a few at most). Lua's < is
-- strcoll, which orders "tok_" + lowercase hex as Redis does.
-- Answers {next ms or -1, next id, {{id, name, scope, created, lastUsed}...}}.
local cms, cid, lim = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
local idx, p = KEYS[1], ARGV[4]
local total = redis.call('ZCARD', idx)
local pos = tonumber(ARGV[5]) or (cms and redis.call('ZCOUNT', idx, '-inf', '(' .. ARGV[1])) or 0
local out, lms, lid, more = {}, -1, '', false
while pos < total and not more do
  local ids = redis.call('ZRANGE', idx, pos, pos + 99, 'WITHSCORES')
  if #ids == 0 then break end
  for i = 1, #ids, 2 do
    local id, ms = ids[i], tonumber(ids[i + 1])
    pos = pos + 1
    if not (cms and ms == cms and id <= cid) then
      local h = redis.call('GET', p .. 'tokenid:' .. id)
      if h then
        if #out >= lim then more = true; break end
        local f = redis.call('HMGET', p .. 'token:' .. h, 'name', 'scope', 'created', 'lastUsed')
        out[#out + 1] = {id, f[1], f[2], f[3], f[4]}
        lms, lid = ms, id
      end
    end
  end
end
if not more then return {-1, '', out} end
return {lms, lid, out}
