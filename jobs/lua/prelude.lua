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

-- Token bucket with reservation (GCRA-like): always takes a token, possibly
-- going negative; returns how many ms until the taken token is really due.
local function rl_take(fam, rate, burst, now)
  local k = P .. 'rl:' .. fam
  local h = redis.call('HMGET', k, 'tokens', 'ts')
  local tokens = tonumber(h[1]) or burst
  local ts = tonumber(h[2]) or now
  if now > ts then tokens = math.min(burst, tokens + (now - ts) * rate / 1000) end
  if now < ts then now = ts end
  tokens = tokens - 1
  redis.call('HSET', k, 'tokens', tostring(tokens), 'ts', now)
  redis.call('PEXPIRE', k, 3600000)
  if tokens >= 0 then return 0 end
  return math.ceil(-tokens * 1000 / rate)
end

-- Promotes due delayed jobs, then pops one job from the lanes in order,
-- gives it a new fencing token and a lease in P.."running". Returns
-- {id, token, type, payload, attempts, max, runs, rlpaid} or
-- {"", next_due_ms (-1 when none), now}.
local function claim_next(worker, lease, lanes, now)
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
  if nxt[2] then return {'', tonumber(nxt[2]), now} end
  return {'', -1, now}
end
