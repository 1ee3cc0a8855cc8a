-- list: ARGV P, index ("idx:all" or "st:<state>"), cursor (sequence, "" =
-- newest), limit, type filter, resource filter, scan_max.
-- Walks the index newest first, skipping jobs that do not match the
-- filters (and dropping entries whose hash expired), examining at most
-- scan_max entries. Returns {next_cursor or "", {k, v, ...}, ...}.
local idx, cursor, limit = P .. ARGV[2], ARGV[3], tonumber(ARGV[4])
local ftype, fres, scan_max = ARGV[5], ARGV[6], tonumber(ARGV[7])
local max = '+inf'
if cursor ~= '' then max = '(' .. cursor end
local out = {''}
local seen, last = 0, nil
while seen < scan_max do
  local batch = redis.call('ZREVRANGEBYSCORE', idx, max, '-inf', 'WITHSCORES', 'LIMIT', 0, 100)
  if #batch == 0 then return out end
  for i = 1, #batch, 2 do
    local id, score = batch[i], batch[i + 1]
    seen = seen + 1
    last = score
    local fields = redis.call('HGETALL', jk(id))
    if #fields == 0 then
      redis.call('ZREM', idx, id)
    else
      -- the filters read the hash already fetched, not a second HMGET per job
      local t, r
      if ftype ~= '' or fres ~= '' then
        for j = 1, #fields, 2 do
          if fields[j] == 'type' then t = fields[j + 1] elseif fields[j] == 'resource' then r = fields[j + 1] end
        end
      end
      if (ftype == '' or t == ftype) and (fres == '' or r == fres) then
        out[#out + 1] = fields
        if #out - 1 >= limit then out[1] = score; return out end
      end
    end
    if seen >= scan_max then out[1] = score; return out end
  end
  max = '(' .. last
end
out[1] = last or ''
return out
