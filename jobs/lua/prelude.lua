-- prelude.lua - definitions the jobs scripts share (after service/redis/lua/runner.lua,
-- which has server_time() and fw_error(); the rules are in service/redis/script.h).
-- lua_embed.py puts into each script only the definitions it uses.
--
-- ARGV[1] is always the key prefix (e.g. "fw:"); keys are built from it, so
-- the scripts assume one Redis (not Cluster). All times are epoch ms of
-- Redis server time. The job hash's fields are the table in jobs/job_record.h:
-- short names, a field at its default value is not stored, the state is a
-- digit, start and finish times are ms after the creation time c. A script
-- names a field JOB_F_<row> of that table (JOB_F_CANCEL), never by hand:
-- lua_embed.py puts in the stored name ('x') at build time. (The members of
-- a job read with jread, j.s, j.q, ..., are Lua names that happen to match.)
--
-- Cost notes (callgrind, Redis 7.0): Redis runs a script's whole text on
-- every call, so constants are locals, not tables (~2,500 instructions a
-- table); numbers are handed to redis.call as text where the text is at
-- hand (Lua formats a number with sprintf, ~3,000-5,000 instructions).
local P = ARGV[1]

-- States as stored: one digit each.
local S_QUEUED, S_SCHEDULED, S_RUNNING, S_SUCCEEDED, S_FAILED, S_DEAD, S_CANCELED = '0', '1', '2', '3', '4', '5', '6'

local function terminal(s) return s == '3' or s == '5' or s == '6' end

local function state_name(s)
  if s == '3' then return 'succeeded' elseif s == '2' then return 'running' elseif s == '0' then return 'queued'
  elseif s == '1' then return 'scheduled' elseif s == '4' then return 'failed' elseif s == '5' then return 'dead'
  elseif s == '6' then return 'canceled' end
end

local MAX_ERRORS = 5

local function jk(id) return P .. 'job:' .. id end

-- Two decimal digits of n (0..99) without sprintf, from two constant
-- strings (one made by concatenation would be built again at every call:
-- 2,500 instructions a digit pair).
local function d2(n)
  if n < 50 then
    return string.sub('0001020304050607080910111213141516171819202122232425262728293031323334353637383940414243444546474849',
      2 * n + 1, 2 * n + 2)
  end
  return string.sub('5051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899',
    2 * n - 99, 2 * n - 98)
end

-- a // b for non-negative integers, in VM arithmetic (math.floor is a C
-- call: twice the instructions).
local function idiv(a, b) return (a - a % b) / b end

-- RFC 3339 UTC from epoch ms (civil-from-days, H. Hinnant); the last one is
-- kept, as one script often stamps several events with the same time.
local iso_ms, iso_text
local function iso(ms)
  if ms == iso_ms then return iso_text end
  local s = idiv(ms, 1000)
  local rem = s % 86400
  local z = (s - rem) / 86400 + 719468
  local doe = z % 146097
  local era = (z - doe) / 146097
  local yoe = idiv(doe - idiv(doe, 1460) + idiv(doe, 36524) - idiv(doe, 146096), 365)
  local doy = doe - (365 * yoe + idiv(yoe, 4) - idiv(yoe, 100))
  local mp = idiv(5 * doy + 2, 153)
  local d = doy - idiv(153 * mp + 2, 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  local y = yoe + era * 400
  if m <= 2 then y = y + 1 end
  local f = ms % 1000
  iso_ms = ms
  iso_text = d2(idiv(y, 100)) .. d2(y % 100) .. '-' .. d2(m) .. '-' .. d2(d) .. 'T' .. d2(idiv(rem, 3600)) .. ':'
    .. d2(idiv(rem % 3600, 60)) .. ':' .. d2(rem % 60) .. '.' .. d2(idiv(f, 10))
    .. string.sub('0123456789', f % 10 + 1, f % 10 + 1) .. 'Z'
  return iso_text
end

-- Small counts as text without sprintf.
local function count_text(n)
  if n >= 0 and n < 10 then return string.sub('0123456789', n + 1, n + 1) end
  return tostring(n)
end

-- The fields every state change needs, and extra ones: returns the job
-- (j.id, j.s state digit, j.q seq, j.t type, j.R resource, j.l lane, j.c
-- created, j.u uniq), the HMGET answer, whose extra fields start at [8],
-- and the job's key.
local function jread(id, ...)
  local k = jk(id)
  local h = redis.call('HMGET', k, JOB_F_STATE, JOB_F_SEQ, JOB_F_TYPE, JOB_F_RESOURCE, JOB_F_LANE,
    JOB_F_CREATED, JOB_F_UNIQ, ...)
  return {id = id, s = h[1], q = h[2], t = h[3], R = h[4] or '', l = h[5] or 'default', c = h[6], u = h[7]}, h, k
end

-- Announces a state change: appends it to the event feed, the log
-- P.."events:log" (a stream capped at ~10,000 entries), the one way every
-- reader learns of changes: GET /v1/events (with Last-Event-ID) and the
-- long polls through each process's event hub (jobs/event_hub.h), jobs_wait
-- by reading it itself. (No pub/sub: a PUBLISH per change, which nothing
-- read, and one more per finished job cost Redis ~2 calls a job.) The entry
-- holds the change as fields, s the state digit, i the job's id, t its type,
-- r its resource ("" for none), not as JSON: the readers make the event's
-- JSON, and its time from the entry's id (the ms Redis gave it), in
-- event_hub.c. Made here, the JSON and its RFC 3339 time cost Redis ~16,000
-- instructions an event, three events a job; the fields cost ~3,000.
local function publish(j, state)
  redis.call('XADD', P .. 'events:log', 'MAXLEN', '~', '10000', '*', 's', state, 'i', j.id, 't', j.t, 'r', j.R)
end

-- Indexes by state, score = creation sequence q, for lists and counts:
-- queued, scheduled and failed jobs in a ZSET each (P.."st:"..name);
-- running jobs in P.."running" alone (lease_member; scored by lease deadline). Finished
-- jobs, nearly every job kept, in ZSETs of the 100 sequence numbers that
-- share all digits but the last two (P.."st:"..name..":"..bucket), small
-- enough for Redis's compact listpack encoding (~40 bytes an entry instead
-- of ~130 in a large ZSET), with the buckets in use in P.."sd:"..name
-- (ZSET, score = bucket): a bucket is in it while it has entries, so a
-- bucket that has more than the entry just added is in it already (ZCARD
-- is cheaper than adding it again: ~3,000 instructions a finished job).
local function bucket_of(q)
  if #q <= 2 then return '0' end
  return string.sub(q, 1, -3)
end

local function idx_add(state, q, id)
  if terminal(state) then
    local name, b = state_name(state), bucket_of(q)
    local bk = P .. 'st:' .. name .. ':' .. b
    redis.call('ZADD', bk, q, id)
    if redis.call('ZCARD', bk) == 1 then redis.call('ZADD', P .. 'sd:' .. name, b, b) end
  elseif state ~= S_RUNNING then
    redis.call('ZADD', P .. 'st:' .. state_name(state), q, id)
  end
end

local function idx_rem(state, q, id)
  if terminal(state) then
    local name, b = state_name(state), bucket_of(q)
    local bk = P .. 'st:' .. name .. ':' .. b
    if redis.call('ZREM', bk, id) == 1 and redis.call('EXISTS', bk) == 0 then
      redis.call('ZREM', P .. 'sd:' .. name, b)
    end
  elseif state ~= S_RUNNING then
    redis.call('ZREM', P .. 'st:' .. state_name(state), id)
  end
end

-- Who holds a running job: its member in P.."running", "id|token", scored by
-- the lease deadline. The token, "seq.runs", is new at every start (runs
-- only grows), so a worker that lost the lease (reaped, released) holds a
-- member that is gone: the member is the fence, and the job hash keeps no
-- token.
local function lease_member(id, token) return id .. '|' .. token end

-- The job id of a P.."running" member.
local function lease_job(member) return string.match(member, '^(.*)|[^|]*$') end

-- Moves job j to state new: indexes, the hash (fields, a flat list of
-- names and values, are written in the same HSET) and the event. k is the
-- job's key when the caller has it at hand (else made here).
local function move_state(j, new, now, fields, k)
  if j.s then idx_rem(j.s, j.q, j.id) end
  idx_add(new, j.q, j.id)
  fields = fields or {}
  fields[#fields + 1] = JOB_F_STATE
  fields[#fields + 1] = new
  redis.call('HSET', k or jk(j.id), unpack(fields))
  publish(j, new)
  j.s = new
end

-- Wakes a blocked worker (BLPOP on P.."wake"). Redis hands a pushed marker
-- to a blocked worker at once, so a marker that stays means no worker was
-- blocked: all are busy, and each takes the next job as it finishes the last
-- (finish.lua). So one marker is enough; more would each cost an idle worker
-- a claim that finds nothing (streaming to 4 workers ran at half the rate of
-- streaming to 1 while markers piled up, capped at 64).
local function wake()
  if redis.call('LLEN', P .. 'wake') == 0 then redis.call('LPUSH', P .. 'wake', '1') end
end

-- Adds 'e', the job's error list (JSON text cur) with one more error
-- object (JSON text; none when ""), capped at MAX_ERRORS, to the field list
-- f for an HSET; returns f.
local function add_error(f, cur, err_json, now)
  if not err_json or err_json == '' then return f end
  local list = {}
  if cur and cur ~= '' then list = cjson.decode(cur) end
  local e = cjson.decode(err_json)
  if e.at == nil then e.at = iso(now) end
  list[#list + 1] = e
  while #list > MAX_ERRORS do table.remove(list, 1) end
  f[#f + 1] = JOB_F_ERRORS
  f[#f + 1] = cjson.encode(list)
  return f
end

-- Drops the per-(type, resource) uniqueness lock if job j holds it.
local function release_unique(j)
  if j.u ~= '1' then return end
  local uk = P .. 'uniq:' .. j.t .. ':' .. j.R
  if redis.call('GET', uk) == j.id then redis.call('DEL', uk) end
end

-- Puts job j (read with jread) into a terminal state with its retention
-- TTL (ms, as text); fields are written in the same HSET; k is the job's
-- key if at hand. A job that waited (not running) may hold fields of the
-- wait, which go.
local function finish_terminal(j, new, now, now_text, ttl_ms, fields, k)
  k = k or jk(j.id)
  if j.s ~= S_RUNNING then redis.call('HDEL', k, JOB_F_NEXT, JOB_F_RLPAID, JOB_F_RLWAIT) end
  if new == S_DEAD then redis.call('ZADD', P .. 'dead', now_text, j.id) end
  release_unique(j)
  fields[#fields + 1] = JOB_F_FINISHED
  fields[#fields + 1] = now - tonumber(j.c)
  move_state(j, new, now, fields, k)
  redis.call('PEXPIRE', k, ttl_ms)
end

-- A running job whose cancel was requested (cancel.lua: JOB_F_CANCEL, and
-- JOB_F_CANCELTTL the retention it asked for) does not go back to wait when
-- its attempt ends otherwise (a retry, a rate-limit park, a release at
-- shutdown, the reaper after its lease expired): it ends canceled, with
-- fields (may be {}) written in the same HSET. The worker learns of a cancel
-- only at a step or a heartbeat, so one asked during a failing call came to
-- nothing: the job ran again. true when it was canceled. (A cancel asked by
-- an older version stored no TTL: the default FLEETWARDEN_JOB_TTL, 7 days.)
local function cancel_instead(j, cancel, ttl, now, now_text, fields, k)
  if cancel ~= '1' then return false end
  finish_terminal(j, S_CANCELED, now, now_text, ttl or '604800000', fields, k)
  return true
end

-- Creates a job hash and queues it (or parks it in delayed until run_at,
-- epoch ms as text, "0" = now). maxa is text.
local function create_job(id, typ, lane, payload, maxa, res, uniq, run_at, sched, now, now_text)
  local seq = tostring(redis.call('INCR', P .. 'seq'))
  local f = {JOB_F_TYPE, typ, JOB_F_SEQ, seq, JOB_F_CREATED, now_text, JOB_F_MAX, maxa}
  local function opt(name, value, default)
    if value ~= default then f[#f + 1] = name; f[#f + 1] = value end
  end
  opt(JOB_F_LANE, lane, 'default')
  opt(JOB_F_PAYLOAD, payload, '{}')
  opt(JOB_F_RESOURCE, res, '')
  opt(JOB_F_UNIQ, uniq and '1' or '', '')
  opt(JOB_F_SCHED, sched, '')
  local j = {id = id, q = seq, t = typ, R = res, l = lane, c = now_text}
  if tonumber(run_at) > now then
    f[#f + 1] = JOB_F_NEXT
    f[#f + 1] = run_at
    redis.call('ZADD', P .. 'delayed', run_at, id)
    move_state(j, S_SCHEDULED, now, f)
  else
    redis.call('LPUSH', P .. 'q:' .. lane, id)
    move_state(j, S_QUEUED, now, f)
    wake()
  end
  if uniq and res ~= '' then redis.call('SET', P .. 'uniq:' .. typ .. ':' .. res, id) end
  return seq
end

-- The rate limits, made on first use (a claim runs the pumps only when one
-- is due, so the common claim does not pay for these closures).
--
-- Token bucket with reservation (GCRA-like) per AWS operation family in
-- P.."rl:"..fam (tokens, ts; rate and burst kept for the pump). Lanes on
-- the bucket (jobs/README.md "Rate limits"): a critical job reserves the
-- next token however far ahead it is due. A job of another lane may only
-- reserve a token due within one token interval (the horizon); otherwise
-- it waits unreserved in P.."rlq:"..fam (ZSET, score lane rank * SPAN +
-- creation sequence: default before bulk, oldest first) and the family's
-- pump (P.."rlpump", family -> due ms, run by claim_next) hands out tokens
-- as they come within the horizon. So queued work holds at most one
-- interval of reservations, and a critical job waits at most about two
-- token intervals, however much is queued.
local function rate_limits()
  local rl = {RANK = {critical = 0, default = 1, bulk = 2}, SPAN = 1e13}
  local BULK_EVERY = 10   -- every 10th pump grant prefers bulk: never starved
  -- The horizon (ms) queued work may reserve ahead: one token interval, so
  -- that each granted job is parked until its token's own time and the calls
  -- go out evenly spaced (granting only tokens due now sent a late pump's
  -- accumulated tokens out in one clump: 323 instead of 140 throttled calls
  -- in 2,000 claims at the emulator's quota); at least SLACK ms of
  -- wake-up jitter less what the burst covers (a pump that late would find
  -- the bucket full and its refill lost).
  local SLACK = 100

  local function level(k, rate, burst, now)
    local h = redis.call('HMGET', k, 'tokens', 'ts')
    local tokens = tonumber(h[1]) or burst
    local ts = tonumber(h[2]) or now
    if now > ts then tokens = math.min(burst, tokens + (now - ts) * rate / 1000) end
    if now < ts then now = ts end
    return tokens, now
  end

  -- Remembers rate and burst (the pump runs without the caller's settings)
  -- and keeps the bucket alive for at least an hour and two token intervals.
  function rl.keep(k, rate, burst)
    redis.call('HSET', k, 'rate', tostring(rate), 'burst', tostring(burst))
    redis.call('PEXPIRE', k, math.max(3600000, math.ceil(2000 / rate)))
  end

  -- ms until a token taken now would be due (0 = now), without taking it.
  function rl.due(fam, rate, burst, now)
    local tokens = level(P .. 'rl:' .. fam, rate, burst, now)
    if tokens >= 1 then return 0 end
    return math.ceil((1 - tokens) * 1000 / rate)
  end

  -- Always takes a token, possibly going negative; returns how many ms
  -- until the taken token is really due.
  function rl.take(fam, rate, burst, now)
    local k = P .. 'rl:' .. fam
    local tokens
    tokens, now = level(k, rate, burst, now)
    tokens = tokens - 1
    redis.call('HSET', k, 'tokens', tostring(tokens), 'ts', now)
    rl.keep(k, rate, burst)
    if tokens >= 0 then return 0 end
    return math.ceil(-tokens * 1000 / rate)
  end

  function rl.horizon(rate, burst)
    return math.max(math.ceil(1000 / rate), math.ceil(SLACK - (burst - 1) * 1000 / rate))
  end

  -- Makes sure fam's pump runs at the latest at ms.
  function rl.pump_at(fam, ms)
    redis.call('ZADD', P .. 'rlpump', 'LT', ms, fam)
  end

  -- Gives waiting job j (read with jread) the token just taken for it (due
  -- in wait ms): it is queued or parked until then, and runs without taking
  -- another.
  local function grant(j, wait, now)
    local k = jk(j.id)
    redis.call('HDEL', k, JOB_F_RLWAIT)
    if wait <= 0 then
      redis.call('RPUSH', P .. 'q:' .. j.l, j.id)
      move_state(j, S_QUEUED, now, {JOB_F_RLPAID, '1'})
      wake()
    else
      redis.call('HSET', k, JOB_F_RLPAID, '1', JOB_F_NEXT, now + wait)
      redis.call('ZADD', P .. 'delayed', now + wait, j.id)
    end
  end

  -- The next waiter of queue q: default lane first, bulk on every
  -- BULK_EVERY-th grant (n), else whatever is first.
  local function pick(q, n)
    local order = (n % BULK_EVERY == 0) and {2, 1} or {1, 2}
    for _, r in ipairs(order) do
      local m = redis.call('ZRANGEBYSCORE', q, r * rl.SPAN, '(' .. ((r + 1) * rl.SPAN), 'LIMIT', 0, 1)
      if m[1] then return m[1] end
    end
    return redis.call('ZRANGE', q, 0, 0)[1]
  end

  -- The bucket expired (no pump ran for an hour, e.g. no worker was up):
  -- waiters go back to their lanes, holding no token, and take tokens anew
  -- when claimed (given one each, as grant does, they all ran at once, over
  -- the rate). Pushed in reverse, the first waiter runs first.
  local function release(fam, q, now)
    local ids = redis.call('ZRANGE', q, 0, 99)
    for i = #ids, 1, -1 do
      local id = ids[i]
      redis.call('ZREM', q, id)
      local j, h = jread(id, JOB_F_RLWAIT)
      if j.s == S_SCHEDULED and h[8] == fam then
        redis.call('HDEL', jk(id), JOB_F_RLWAIT)
        redis.call('RPUSH', P .. 'q:' .. j.l, id)
        move_state(j, S_QUEUED, now)
      end
    end
    wake()
  end

  -- Hands out the tokens of fam due within the horizon to its waiters, then
  -- schedules the next pump (or drops it when nobody waits).
  local function pump(fam, now)
    local q, bk = P .. 'rlq:' .. fam, P .. 'rl:' .. fam
    local h = redis.call('HMGET', bk, 'rate', 'burst', 'grants')
    local rate, burst, n = tonumber(h[1]), tonumber(h[2]), tonumber(h[3]) or 0
    local nextat = now   -- more than a batch ready: go on at once
    if not rate then
      release(fam, q, now)
    else
      local hz = rl.horizon(rate, burst)
      for _ = 1, 100 do
        local due = rl.due(fam, rate, burst, now)
        if due > hz then
          nextat = now + due - hz
          break
        end
        local id = pick(q, n + 1)
        if not id then break end
        redis.call('ZREM', q, id)
        local j, jh = jread(id, JOB_F_RLWAIT)
        if j.s == S_SCHEDULED and jh[8] == fam then   -- else canceled or gone meanwhile
          n = n + 1
          grant(j, rl.take(fam, rate, burst, now), now)
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

  -- Runs the pumps of the families fams (due now).
  function rl.pumps(fams, now)
    for _, fam in ipairs(fams) do pump(fam, now) end
  end
  return rl
end

-- Whether this call of a script has run the due pumps and promotions
-- (claim_next): the later claims of a batch (finish_many.lua), at the same
-- time, find nothing more due unless a finish of the batch parked a job due
-- at once (finish_job sets it back), and skip them (two calls a job).
local due_done = false

-- Moves delayed jobs that are due (retries, run_at, reserved rate-limit
-- tokens) to the end of their lane, so they run next.
local function promote_due(now, now_text)
  local due = redis.call('ZRANGEBYSCORE', P .. 'delayed', '-inf', now_text, 'LIMIT', '0', '100')
  for _, id in ipairs(due) do
    redis.call('ZREM', P .. 'delayed', id)
    local j = jread(id)
    if j.s == S_SCHEDULED or j.s == S_FAILED then
      redis.call('HDEL', jk(id), JOB_F_NEXT)
      redis.call('RPUSH', P .. 'q:' .. j.l, id)
      move_state(j, S_QUEUED, now)
    end
  end
end

-- Runs due rate-limit pumps, promotes due delayed jobs, then pops one job
-- from the lanes in the order l1, l2, l3 (LMPOP: the first lane that has
-- one), gives it a lease and a new fencing token in P.."running"
-- (lease_member). lease is ms as a number. Returns one flat list (a nested
-- one costs Redis a second table to convert), the finish's "ok" first:
-- {"ok", id, token, type, payload, attempts, max, runs, rlpaid, created,
-- resource, uniq} (the last three for its finish: finish.lua) or
-- {"ok", "", next_due_ms (-1 when none), now}.
local function claim_next(lease, l1, l2, l3, now, now_text)
  if not due_done then
    local fams = redis.call('ZRANGEBYSCORE', P .. 'rlpump', '-inf', now_text, 'LIMIT', '0', '20')
    if fams[1] then rate_limits().pumps(fams, now) end
    promote_due(now, now_text)
    due_done = true
  end
  local q1, q2, q3 = P .. 'q:' .. l1, P .. 'q:' .. l2, P .. 'q:' .. l3
  while true do
    local popped = redis.call('LMPOP', '3', q1, q2, q3, 'RIGHT')
    if not popped then break end
    local id = popped[2][1]
    local j, h, k = jread(id, JOB_F_PAYLOAD, JOB_F_MAX, JOB_F_ATTEMPTS, JOB_F_RUNS, JOB_F_RLPAID)
    if j.s == S_QUEUED then
      local att, runs = count_text((tonumber(h[10]) or 0) + 1), count_text((tonumber(h[11]) or 0) + 1)
      local tok = j.q .. '.' .. runs
      if h[12] then redis.call('HDEL', k, JOB_F_RLPAID) end
      redis.call('ZADD', P .. 'running', now + lease, lease_member(id, tok))
      move_state(j, S_RUNNING, now, {JOB_F_STARTED, now - tonumber(j.c), JOB_F_ATTEMPTS, att, JOB_F_RUNS, runs}, k)
      return {'ok', id, tok, j.t, h[8] or '{}', att, h[9], runs, h[12] or '0', j.c, j.R, j.u or ''}
    end
  end
  local nxt = redis.call('ZRANGE', P .. 'delayed', '0', '0', 'WITHSCORES')
  local pump = redis.call('ZRANGE', P .. 'rlpump', '0', '0', 'WITHSCORES')
  local at = tonumber(nxt[2])
  if pump[2] and (not at or tonumber(pump[2]) < at) then at = tonumber(pump[2]) end
  return {'ok', '', at or -1, now}
end

-- The finish of one running job (lua/finish.lua has the arguments and answers): A is the
-- call's ARGV, now and now_text the server time (one reading for a whole batch).
local function finish_job(A, now, now_text)
  local id, token, outcome = A[2], A[3], A[4]
  local a1, a2, a3 = A[5], A[6], A[7]
  if outcome ~= 'succeeded' and outcome ~= 'dead' and outcome ~= 'canceled' and outcome ~= 'retry'
      and outcome ~= 'defer' and outcome ~= 'release' then   -- no table: one costs ~2,500 instructions a call
    return redis.error_reply('finish: unknown outcome ' .. outcome)
  end
  if redis.call('ZREM', P .. 'running', lease_member(id, token)) == 0 then
    return fw_error('CONFLICT', 'the lease was lost')
  end
  local j, h, k
  if outcome == 'succeeded' and A[8] ~= '' then
    j = {id = id, s = S_RUNNING, q = string.match(token, '^[^.]*'), t = A[8], c = A[9], R = A[10], u = A[11]}
    k = jk(id)
  elseif outcome == 'succeeded' or outcome == 'canceled' then
    j, h, k = jread(id)
  else
    j, h, k = jread(id, JOB_F_ATTEMPTS, JOB_F_ERRORS, JOB_F_CANCEL, JOB_F_CANCELTTL)
  end
  if (outcome == 'retry' or outcome == 'defer' or outcome == 'release') and
      cancel_instead(j, h[10], h[11], now, now_text, add_error({}, h[9], a1, now), k) then
    -- ended canceled, as its cancel asked
  elseif outcome == 'succeeded' then
    finish_terminal(j, S_SUCCEEDED, now, now_text, a2, {JOB_F_RESULT, a1}, k)
  elseif outcome == 'dead' then
    local f = add_error({}, h[9], a1, now)
    if a3 ~= '' then f[#f + 1] = JOB_F_REASON; f[#f + 1] = a3 end
    finish_terminal(j, S_DEAD, now, now_text, a2, f)
  elseif outcome == 'canceled' then
    finish_terminal(j, S_CANCELED, now, now_text, a2, {})
  elseif outcome == 'release' then
    redis.call('RPUSH', P .. 'q:' .. j.l, id)
    move_state(j, S_QUEUED, now, {JOB_F_ATTEMPTS, (tonumber(h[8]) or 0) - 1})
    wake()
  else   -- retry, defer
    local due = now + tonumber(a2)
    local attempts = tonumber(h[8]) or 0
    local st, f = S_FAILED, {JOB_F_NEXT, due}
    if outcome == 'retry' then
      add_error(f, h[9], a1, now)
      if a3 ~= '1' then attempts = attempts - 1 end
      redis.call('HINCRBY', P .. 'stats', 'retries', '1')
    else
      st = S_SCHEDULED
      attempts = attempts - 1
      f[#f + 1] = JOB_F_RLPAID
      f[#f + 1] = '1'
      redis.call('HINCRBY', P .. 'stats', 'rlwaits', '1')
    end
    f[#f + 1] = JOB_F_ATTEMPTS
    f[#f + 1] = attempts
    redis.call('ZADD', P .. 'delayed', due, id)
    if due <= now then due_done = false end
    move_state(j, st, now, f)
  end
  if A[12] == '1' then return claim_next(tonumber(A[13]), A[14], A[15], A[16], now, now_text) end
  return 'ok'
end
