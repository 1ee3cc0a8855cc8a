-- incident_list.lua - (store_watch.c) KEYS[1] the narrowest index. ARGV: prefix, cursor score,
-- limit, state, fleet, claim, most hashes to read. Answers {next cursor score or -1, {incident
-- hash as name/value pairs...}}.
local p, cur, limit, maxscan = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[7])
local want = {state = ARGV[4], fleet = ARGV[5], claim = ARGV[6]}
local out, scanned, last = {}, 0, nil
while scanned < maxscan do
  local ids = redis.call('ZREVRANGEBYSCORE', KEYS[1], cur, '-inf', 'WITHSCORES', 'LIMIT', 0, 200)
  if #ids == 0 then return {-1, out} end
  for i = 1, #ids, 2 do
    scanned = scanned + 1
    local h = redis.call('HGETALL', p .. 'inc:' .. ids[i])
    local m = {}
    for j = 1, #h, 2 do m[h[j]] = h[j + 1] end
    local ok = #h > 0
    for f, v in pairs(want) do if v ~= '' and m[f] ~= v then ok = false end end
    if ok then
      if #out == limit then return {tonumber(last), out} end
      out[#out + 1] = h
      last = ids[i + 1]
    end
    cur = '(' .. ids[i + 1]
    if scanned >= maxscan then return {tonumber(ids[i + 1]), out} end
  end
end
return {-1, out}
