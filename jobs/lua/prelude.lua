-- prelude.lua - helpers shared by every jobs script (prepended at build time).
--
-- ARGV[1] is always the key prefix (e.g. "fw:"); keys are built from it, so
-- the scripts assume one Redis (not Cluster). Time is Redis server time
-- (TIME inside the script: Redis 7 replicates script effects), so worker
-- clocks never matter. All times are epoch milliseconds.
local P = ARGV[1]
local TERMINAL = {succeeded = true, dead = true, canceled = true}
local MAX_ERRORS = 5

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function jk(id) return P .. 'job:' .. id end

-- RFC 3339 UTC from epoch ms (civil-from-days, H. Hinnant).
local function iso(ms)
  local s = math.floor(ms / 1000)
  local days, rem = math.floor(s / 86400), s % 86400
  local z = days + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local d = doy - math.floor((153 * mp + 2) / 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  local y = yoe + era * 400
  if m <= 2 then y = y + 1 end
  return string.format('%04d-%02d-%02dT%02d:%02d:%02d.%03dZ', y, m, d,
    math.floor(rem / 3600), math.floor(rem % 3600 / 60), rem % 60, ms % 1000)
end

-- Publishes a state change on P.."events" (pub/sub) and appends it to the
-- replayable log P.."events:log" (a stream capped at ~10,000 entries, read
-- by GET /v1/events with Last-Event-ID); terminal states also wake
-- long-pollers of that one job on P.."done:"..id.
local function publish(id, state, now)
  local h = redis.call('HMGET', jk(id), 'type', 'resource')
  local res = h[2]
  if not res or res == '' then res = cjson.null end
  local ev = cjson.encode({type = 'job', id = id, state = state,
    jobType = h[1] or cjson.null, resource = res, ts = iso(now)})
  redis.call('PUBLISH', P .. 'events', ev)
  redis.call('XADD', P .. 'events:log', 'MAXLEN', '~', 10000, '*', 'e', ev)
  if TERMINAL[state] then redis.call('PUBLISH', P .. 'done:' .. id, state) end
end

-- Moves a job between per-state index ZSETs (score = creation sequence).
local function move_state(id, old, new, seq, now)
  if old then redis.call('ZREM', P .. 'st:' .. old, id) end
  redis.call('ZADD', P .. 'st:' .. new, seq, id)
  redis.call('HSET', jk(id), 'state', new, 'updated', now)
  publish(id, new, now)
end

-- Wakes blocked workers (BLPOP on P.."wake"); bounded list.
local function wake()
  redis.call('LPUSH', P .. 'wake', '1')
  redis.call('LTRIM', P .. 'wake', 0, 63)
end

-- Appends one error object (JSON text) to the job's capped error list.
local function push_error(id, err_json)
  if not err_json or err_json == '' then return end
  local cur = redis.call('HGET', jk(id), 'errors')
  local list = {}
  if cur and cur ~= '' then list = cjson.decode(cur) end
  local e = cjson.decode(err_json)
  if e.at == nil then e.at = iso(now_ms()) end
  list[#list + 1] = e
  while #list > MAX_ERRORS do table.remove(list, 1) end
  redis.call('HSET', jk(id), 'errors', cjson.encode(list))
end

-- Drops the per-(type, resource) uniqueness lock if this job holds it.
local function release_unique(id)
  local h = redis.call('HMGET', jk(id), 'uniq', 'type', 'resource')
  if h[1] ~= '1' then return end
  local uk = P .. 'uniq:' .. h[2] .. ':' .. h[3]
  if redis.call('GET', uk) == id then redis.call('DEL', uk) end
end

-- Puts a job into a terminal state with its retention TTL.
local function finish_terminal(id, old, new, seq, now, ttl_ms)
  redis.call('HSET', jk(id), 'finished', now)
  redis.call('HDEL', jk(id), 'next', 'token', 'lease', 'worker')
  if new == 'dead' then redis.call('ZADD', P .. 'dead', now, id) end
  release_unique(id)
  move_state(id, old, new, seq, now)
  redis.call('PEXPIRE', jk(id), ttl_ms)
end

-- Creates a job hash and queues it (or parks it in delayed until run_at).
local function create_job(id, typ, lane, payload, maxa, res, uniq, run_at, sched, now)
  local seq = redis.call('INCR', P .. 'seq')
  local k = jk(id)
  redis.call('HSET', k, 'id', id, 'type', typ, 'lane', lane, 'payload', payload,
    'attempts', 0, 'runs', 0, 'stalls', 0, 'max', maxa, 'resource', res,
    'created', now, 'seq', seq, 'cancel', 0, 'uniq', uniq and '1' or '0', 'sched', sched)
  redis.call('ZADD', P .. 'idx:all', seq, id)
  if run_at > now then
    redis.call('HSET', k, 'next', run_at)
    redis.call('ZADD', P .. 'delayed', run_at, id)
    move_state(id, nil, 'scheduled', seq, now)
  else
    redis.call('LPUSH', P .. 'q:' .. lane, id)
    move_state(id, nil, 'queued', seq, now)
    wake()
  end
  if uniq and res ~= '' then redis.call('SET', P .. 'uniq:' .. typ .. ':' .. res, id) end
  return seq
end

-- Token bucket with reservation (GCRA-like) per AWS operation family in
-- P.."rl:"..fam (tokens, ts; rate and burst kept for the pump).
local function rl_level(k, rate, burst, now)
  local h = redis.call('HMGET', k, 'tokens', 'ts')
  local tokens = tonumber(h[1]) or burst
  local ts = tonumber(h[2]) or now
  if now > ts then tokens = math.min(burst, tokens + (now - ts) * rate / 1000) end
  if now < ts then now = ts end
  return tokens, now
end

-- Remembers rate and burst (the pump runs without the caller's settings)
-- and keeps the bucket alive for at least an hour and two token intervals.
local function rl_keep(k, rate, burst)
  redis.call('HSET', k, 'rate', tostring(rate), 'burst', tostring(burst))
  redis.call('PEXPIRE', k, math.max(3600000, math.ceil(2000 / rate)))
end

-- ms until a token taken now would be due (0 = now), without taking it.
local function rl_due(fam, rate, burst, now)
  local tokens = rl_level(P .. 'rl:' .. fam, rate, burst, now)
  if tokens >= 1 then return 0 end
  return math.ceil((1 - tokens) * 1000 / rate)
end

-- Always takes a token, possibly going negative; returns how many ms
-- until the taken token is really due.
local function rl_take(fam, rate, burst, now)
  local k = P .. 'rl:' .. fam
  local tokens
  tokens, now = rl_level(k, rate, burst, now)
  tokens = tokens - 1
  redis.call('HSET', k, 'tokens', tostring(tokens), 'ts', now)
  rl_keep(k, rate, burst)
  if tokens >= 0 then return 0 end
  return math.ceil(-tokens * 1000 / rate)
end

-- Lanes on the bucket (jobs/README.md "Rate limits"). A critical job
-- reserves the next token however far ahead it is due. A job of another
-- lane may only reserve a token due within one token interval (the
-- horizon, rl_horizon); otherwise it waits unreserved in P.."rlq:"..fam (ZSET, score
-- lane rank * RL_SPAN + creation sequence: default before bulk, oldest
-- first) and the family's pump (P.."rlpump", family -> due ms, run by
-- claim_next) hands out tokens as they come within the horizon. So queued
-- work holds at most one interval of reservations, and a critical job waits
-- at most about two token intervals, however much is queued.
local RL_RANK = {critical = 0, default = 1, bulk = 2}
local RL_SPAN = 1e13
local RL_BULK_EVERY = 10   -- every 10th pump grant prefers bulk: never starved

-- The horizon (ms) queued work may reserve ahead: one token interval, so
-- that each granted job is parked until its token's own time and the calls
-- go out evenly spaced (granting only tokens due now sent a late pump's
-- accumulated tokens out in one clump: 323 instead of 140 throttled calls
-- in 2,000 claims at the emulator's quota); at least RL_SLACK ms of
-- wake-up jitter less what the burst covers (a pump that late would find
-- the bucket full and its refill lost).
local RL_SLACK = 100
local function rl_horizon(rate, burst)
  return math.max(math.ceil(1000 / rate), math.ceil(RL_SLACK - (burst - 1) * 1000 / rate))
end

-- Makes sure fam's pump runs at the latest at ms.
local function rl_pump_at(fam, ms)
  redis.call('ZADD', P .. 'rlpump', 'LT', ms, fam)
end

-- Gives waiting job id the token just taken for it (due in wait ms): it
-- is queued or parked until then, and runs without taking another.
local function rl_grant(id, wait, now)
  local k = jk(id)
  local h = redis.call('HMGET', k, 'seq', 'lane')
  redis.call('HDEL', k, 'rlwait')
  redis.call('HSET', k, 'rlpaid', 1)
  if wait <= 0 then
    redis.call('RPUSH', P .. 'q:' .. h[2], id)
    move_state(id, 'scheduled', 'queued', h[1], now)
    wake()
  else
    redis.call('HSET', k, 'next', now + wait)
    redis.call('ZADD', P .. 'delayed', now + wait, id)
  end
end

-- The next waiter of queue q: default lane first, bulk on every
-- RL_BULK_EVERY-th grant (n), else whatever is first.
local function rl_pick(q, n)
  local order = (n % RL_BULK_EVERY == 0) and {2, 1} or {1, 2}
  for _, r in ipairs(order) do
    local m = redis.call('ZRANGEBYSCORE', q, r * RL_SPAN, '(' .. ((r + 1) * RL_SPAN), 'LIMIT', 0, 1)
    if m[1] then return m[1] end
  end
  return redis.call('ZRANGE', q, 0, 0)[1]
end

-- The bucket expired (no pump ran for an hour, e.g. no worker was up):
-- waiters go back to their lanes and take tokens anew when claimed.
local function rl_release(fam, q, now)
  for _, id in ipairs(redis.call('ZRANGE', q, 0, 99)) do
    redis.call('ZREM', q, id)
    local h = redis.call('HMGET', jk(id), 'state', 'rlwait')
    if h[1] == 'scheduled' and h[2] == fam then rl_grant(id, 0, now) end
  end
end

-- Hands out the tokens of fam due within the horizon to its waiters, then
-- schedules the next pump (or drops it when nobody waits).
local function rl_pump(fam, now)
  local q, bk = P .. 'rlq:' .. fam, P .. 'rl:' .. fam
  local h = redis.call('HMGET', bk, 'rate', 'burst', 'grants')
  local rate, burst, n = tonumber(h[1]), tonumber(h[2]), tonumber(h[3]) or 0
  local nextat = now   -- more than a batch ready: go on at once
  if not rate then
    rl_release(fam, q, now)
  else
    local hz = rl_horizon(rate, burst)
    for _ = 1, 100 do
      local due = rl_due(fam, rate, burst, now)
      if due > hz then
        nextat = now + due - hz
        break
      end
      local id = rl_pick(q, n + 1)
      if not id then break end
      redis.call('ZREM', q, id)
      local j = redis.call('HMGET', jk(id), 'state', 'rlwait')
      if j[1] == 'scheduled' and j[2] == fam then   -- else canceled or gone meanwhile
        n = n + 1
        rl_grant(id, rl_take(fam, rate, burst, now), now)
      end
    end
    redis.call('HSET', bk, 'grants', n)
  end
  if redis.call('ZCARD', q) == 0 then
    redis.call('ZREM', P .. 'rlpump', fam)
  else
    redis.call('ZADD', P .. 'rlpump', nextat, fam)
  end
end

-- Runs the rate-limit pumps that are due.
local function rl_pumps(now)
  for _, fam in ipairs(redis.call('ZRANGEBYSCORE', P .. 'rlpump', '-inf', now, 'LIMIT', 0, 20)) do
    rl_pump(fam, now)
  end
end

-- Runs due rate-limit pumps, promotes due delayed jobs, then pops one job from the lanes in order,
-- gives it a new fencing token and a lease in P.."running". Returns
-- {id, token, type, payload, attempts, max, runs, rlpaid} or
-- {"", next_due_ms (-1 when none), now}.
local function claim_next(worker, lease, lanes, now)
  rl_pumps(now)
  local due = redis.call('ZRANGEBYSCORE', P .. 'delayed', '-inf', now, 'LIMIT', 0, 100)
  for _, id in ipairs(due) do
    redis.call('ZREM', P .. 'delayed', id)
    local h = redis.call('HMGET', jk(id), 'state', 'lane', 'seq')
    if h[1] == 'scheduled' or h[1] == 'failed' then
      redis.call('HDEL', jk(id), 'next')
      redis.call('RPUSH', P .. 'q:' .. h[2], id)
      move_state(id, h[1], 'queued', h[3], now)
    end
  end
  for _, lane in ipairs(lanes) do
    while true do
      local id = redis.call('RPOP', P .. 'q:' .. lane)
      if not id then break end
      local k = jk(id)
      local h = redis.call('HMGET', k, 'state', 'seq', 'type', 'payload', 'max', 'rlpaid')
      if h[1] == 'queued' then
        local tok = redis.call('INCR', P .. 'token')
        local att = redis.call('HINCRBY', k, 'attempts', 1)
        local runs = redis.call('HINCRBY', k, 'runs', 1)
        redis.call('HSET', k, 'token', tok, 'worker', worker, 'lease', now + lease,
          'started', now, 'rlpaid', 0)
        redis.call('ZADD', P .. 'running', now + lease, id)
        move_state(id, 'queued', 'running', h[2], now)
        return {id, tostring(tok), h[3], h[4], att, tonumber(h[5]), runs, h[6] or '0'}
      end
    end
  end
  local nxt = redis.call('ZRANGE', P .. 'delayed', 0, 0, 'WITHSCORES')
  local pump = redis.call('ZRANGE', P .. 'rlpump', 0, 0, 'WITHSCORES')
  local at = tonumber(nxt[2])
  if pump[2] and (not at or tonumber(pump[2]) < at) then at = tonumber(pump[2]) end
  return {'', at or -1, now}
end
