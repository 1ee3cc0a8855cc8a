-- reap: ARGV P, max_stalls, dead_ttl_ms.
-- Returns jobs whose lease expired (their worker died or hung) to the
-- front of their lane; a job that stalls max_stalls times goes dead as a
-- poison job, or ends canceled when its cancel was asked for. A stall does
-- not use up an attempt. Then drops index
-- entries whose job hash has expired. Returns {requeued, dead, trimmed}.
local max_stalls, dead_ttl = tonumber(ARGV[2]), ARGV[3]
local now, now_text = server_time()
local held = redis.call('ZRANGEBYSCORE', P .. 'running', '-inf', now_text, 'LIMIT', '0', '100')
local requeued, dead, trimmed = 0, 0, 0
for _, member in ipairs(held) do
  redis.call('ZREM', P .. 'running', member)
  local id = lease_job(member)
  local j, h = jread(id, JOB_F_STALLS, JOB_F_ATTEMPTS, JOB_F_ERRORS, JOB_F_CANCEL, JOB_F_CANCELTTL)
  if j.s == S_RUNNING and not cancel_instead(j, h[11], h[12], now, now_text, {}) then
    local stalls = (tonumber(h[8]) or 0) + 1
    local msg = 'lease expired (worker lost) ' .. stalls .. ' time(s)'
    local err = cjson.encode({class = 'stalled', code = 'LeaseExpired', message = msg, at = iso(now)})
    local f = add_error({JOB_F_STALLS, stalls, JOB_F_ATTEMPTS, (tonumber(h[9]) or 0) - 1}, h[10], err, now)
    if stalls >= max_stalls then
      f[#f + 1] = JOB_F_REASON
      f[#f + 1] = 'poison: ' .. msg
      redis.call('HINCRBY', P .. 'stats', 'poison', '1')
      finish_terminal(j, S_DEAD, now, now_text, dead_ttl, f)
      dead = dead + 1
    else
      redis.call('RPUSH', P .. 'q:' .. j.l, id)
      move_state(j, S_QUEUED, now, f)
      requeued = requeued + 1
    end
  end
end
if requeued > 0 then wake() end
-- Index trimming: each finished state's buckets are walked with a saved
-- cursor (P trim:st:<state>, the next bucket to look at, going down), about
-- 500 entries per pass, wrapping around, so every entry is looked at again
-- within (size / 500) passes however long-lived the oldest are. Then the
-- dead-by-time index the same way.
local function trim_bucket(name, b)
  local bk = P .. 'st:' .. name .. ':' .. b
  local m = redis.call('ZRANGE', bk, 0, -1)
  local gone = 0
  for _, id in ipairs(m) do
    if redis.call('EXISTS', jk(id)) == 0 then
      redis.call('ZREM', bk, id)
      gone = gone + 1
    end
  end
  if gone > 0 and gone == #m then redis.call('ZREM', P .. 'sd:' .. name, b) end
  return #m, gone
end
for _, name in ipairs({'succeeded', 'dead', 'canceled'}) do
  local ck = P .. 'trim:st:' .. name
  local from = redis.call('GET', ck) or '+inf'
  local bs = redis.call('ZREVRANGEBYSCORE', P .. 'sd:' .. name, from, '-inf', 'LIMIT', 0, 8)
  local seen, last = 0, nil
  for _, b in ipairs(bs) do
    local n, gone = trim_bucket(name, b)
    seen, last, trimmed = seen + n, b, trimmed + gone
    if seen >= 500 then break end
  end
  -- The walk wraps only when it read the last bucket there is: a pass that stopped at 500
  -- entries, or read all 8 buckets it asked for, goes on below the last one next time. (It
  -- wrapped whenever 8 buckets held fewer than 500 entries: sparse states, dead and canceled,
  -- about one entry a bucket, were trimmed in their newest 8 buckets only, and their indexes and
  -- counts kept every expired job.)
  if last and (last ~= bs[#bs] or #bs == 8) then
    redis.call('SET', ck, '(' .. last)
  else
    redis.call('DEL', ck)
  end
end
local ck = P .. 'trim:dead'
local from = redis.call('GET', ck) or '-inf'
local m = redis.call('ZRANGEBYSCORE', P .. 'dead', from, '+inf', 'WITHSCORES', 'LIMIT', 0, 500)
for i = 1, #m, 2 do
  if redis.call('EXISTS', jk(m[i])) == 0 then
    redis.call('ZREM', P .. 'dead', m[i])
    trimmed = trimmed + 1
  end
end
if #m < 1000 then redis.call('DEL', ck) else redis.call('SET', ck, '(' .. m[#m]) end
return {requeued, dead, trimmed}
