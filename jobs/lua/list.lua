-- list: ARGV P, state ("" = every state), cursor (creation sequence, "" =
-- newest), limit, scan_max, then the filters: stored field name, value, ...
-- (jobs/job_record.h; an absent field is "").
-- Walks the state's index (prelude.lua idx_add), or all of them merged,
-- newest first, skipping jobs that do not match the filters (and dropping
-- entries whose hash expired), examining at most scan_max entries.
-- Returns {next_cursor or "", {id, field, value, ...}, ...}.
local state, cursor, limit, scan_max = ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local filters = #ARGV - 5

local function bound(below) return below and ('(' .. below) or '+inf' end

-- Running jobs are few and indexed by lease deadline: all of them, by seq.
local function fill_running(it)
  local all = {}
  for _, member in ipairs(redis.call('ZRANGE', P .. 'running', 0, -1)) do
    local id = lease_job(member)
    local q = tonumber(redis.call('HGET', jk(id), JOB_F_SEQ))
    if q and (not it.below or q < it.below) then all[#all + 1] = {q, id, tostring(q)} end
  end
  table.sort(all, function(x, y) return x[1] > y[1] end)
  for _, e in ipairs(all) do it.buf[#it.buf + 1] = e end
  it.last = true
end

local function take(it, m)
  for i = 1, #m, 2 do it.buf[#it.buf + 1] = {tonumber(m[i + 1]), m[i], m[i + 1]} end
end

-- A finished state: the highest bucket at or below it.maxb (a ZSET score
-- bound) that has entries below the bound; an exhausted bucket b makes the
-- bound "(b", so the walk always goes down and ends.
local function fill_buckets(it, name)
  if not it.maxb then it.maxb = it.below and bucket_of(tostring(it.below - 1)) or '+inf' end
  while true do
    local b = redis.call('ZREVRANGEBYSCORE', P .. 'sd:' .. name, it.maxb, '-inf', 'LIMIT', '0', '1')[1]
    if not b then it.last = true; return end
    local m = redis.call('ZREVRANGEBYSCORE', P .. 'st:' .. name .. ':' .. b, bound(it.below), '-inf',
      'WITHSCORES', 'LIMIT', '0', '100')
    if #m > 0 then take(it, m); it.maxb = b; return end
    it.maxb = '(' .. b
  end
end

-- The next entry {seq, id, seq as text} of iterator it without taking it, or nil.
local function peek(it)
  if it.pos > #it.buf then
    if it.last then return nil end
    it.buf, it.pos = {}, 1
    if it.code == S_RUNNING then
      fill_running(it)
    elseif terminal(it.code) then
      fill_buckets(it, state_name(it.code))
    else
      take(it, redis.call('ZREVRANGEBYSCORE', P .. 'st:' .. state_name(it.code), bound(it.below), '-inf',
        'WITHSCORES', 'LIMIT', 0, 100))
      if #it.buf == 0 then it.last = true end
    end
    if it.pos > #it.buf then return nil end
  end
  return it.buf[it.pos]
end

local below = nil
if cursor ~= '' then below = tonumber(cursor) end
local its = {}
for _, c in ipairs({'0', '1', '2', '3', '4', '5', '6'}) do
  if state == '' or state_name(c) == state then its[#its + 1] = {code = c, buf = {}, pos = 1, below = below} end
end

-- The filters read the hash already fetched, not a second HMGET per job.
local function matches(fields)
  for k = 6, 5 + filters, 2 do
    local name, got = ARGV[k], ''
    for j = 1, #fields, 2 do
      if fields[j] == name then got = fields[j + 1]; break end
    end
    if got ~= ARGV[k + 1] then return false end
  end
  return true
end

local out = {''}
local seen = 0
while seen < scan_max do
  local best, head
  for _, it in ipairs(its) do
    local e = peek(it)
    if e and (not head or e[1] > head[1]) then best, head = it, e end
  end
  if not best then return out end
  best.pos = best.pos + 1
  best.below = head[1]
  seen = seen + 1
  local fields = redis.call('HGETALL', jk(head[2]))
  if #fields == 0 then
    idx_rem(best.code, head[3], head[2])   -- the job expired: drop its entry
  elseif matches(fields) then
    table.insert(fields, 1, head[2])
    out[#out + 1] = fields
    if #out - 1 >= limit then out[1] = head[1]; return out end
  end
  if seen >= scan_max then out[1] = head[1]; return out end
end
return out
