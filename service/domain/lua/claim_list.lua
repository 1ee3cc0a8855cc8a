-- claim_list.lua (store_claim.c)
-- KEYS[1] index of every claim (or of the fleet's), KEYS[2] the state's
-- index (claims:s:STATE or claims:fs:FLEET:STATE; KEYS[1] again without a
-- state); ARGV: cursor ms ("" newest), cursor id, limit, state (""
-- any), prefix, max scan, the fleet's uid ("" none: every claim the index
-- holds), then the fields to read (none: all of them, HGETALL). A claim
-- that records another fleetUid belongs to an earlier fleet of the same
-- name (deleted, then made again): the fleet's indexes still hold it, but
-- it is not this fleet's and is skipped (claims without a fleetUid, from
-- before generations, are taken as the fleet's). With a state, the state's index is walked once it is built
-- (P claims:idx, store_claim_index.h): every entry it gives is a match, so
-- a filtered page reads what an unfiltered one does. Before (an upgrade
-- whose migration is still running) the whole index is walked and the
-- state filtered here, as far as the scan bound. The state is checked in
-- both cases: an entry an older version left behind is skipped. A list that names its fields leaves out what it does not show:
-- a claim's CSR and certificate PEM are ~1.3 KB of its ~2 KB, read, sent,
-- parsed, copied and freed for nothing on every page.
-- Keyset paging: the cursor is the last entry the previous page examined
-- (score = created ms, member = id). Redis orders equal scores by member,
-- so newest first the page goes on at score < ms, or score == ms and
-- member < id. Claims created meanwhile are newer than the cursor and
-- never shift the walk (an offset did: items showed twice). The start is
-- found by rank (ZCOUNT of the newer scores, O(log n)); then the entries
-- of the cursor's own millisecond at or above its id are passed over,
-- uncounted: a few at most, as each claim is one script's ZADD. Lua's <
-- is strcoll, which orders "clm_" + lowercase hex as Redis does.
-- The scan bound counts examined entries, so a sparse state filter may
-- give a short page that still carries a cursor.
-- Returns {next ms or -1, next id, {flat hash, ...}}.
local cms, cid = tonumber(ARGV[1]), ARGV[2]
local lim, scan = tonumber(ARGV[3]), tonumber(ARGV[6])
local idx = KEYS[1]
if ARGV[4] ~= '' and redis.call('GET', ARGV[5] .. 'claims:idx') == claim_index_version then idx = KEYS[2] end
local uid = ARGV[7]
local names = {unpack(ARGV, 8)}
local function read(k)
  if #names == 0 then return redis.call('HGETALL', k) end
  local v, h = redis.call('HMGET', k, unpack(names)), {}
  for i = 1, #names do if v[i] then h[#h + 1] = names[i]; h[#h + 1] = v[i] end end
  if #h == 0 and redis.call('EXISTS', k) == 1 then h = {CLAIM_F_ID, ''} end
  return h
end
local total = redis.call('ZCARD', idx)
local pos = cms and redis.call('ZCOUNT', idx, '(' .. ARGV[1], '+inf') or 0
local out, seen, lms, lid = {}, 0, cms, cid
while #out < lim and pos < total and seen < scan do
  local ids = redis.call('ZREVRANGE', idx, pos, pos + 199, 'WITHSCORES')
  if #ids == 0 then break end
  for i = 1, #ids, 2 do
    local id, ms = ids[i], tonumber(ids[i + 1])
    pos = pos + 1
    if not (cms and ms == cms and id >= cid) then
      seen, lms, lid = seen + 1, ms, id
      local k = ARGV[5] .. 'claim:' .. id
      local ours = uid == '' or (redis.call('HGET', k, CLAIM_F_FLEET_UID) or uid) == uid
      if ours and (ARGV[4] == '' or redis.call('HGET', k, CLAIM_F_STATE) == ARGV[4]) then
        local h = read(k)
        if #h > 0 then out[#out + 1] = h end
      end
      if #out >= lim or seen >= scan then break end
    end
  end
end
if pos >= total then return {-1, '', out} end
return {lms or -1, lid or '', out}
