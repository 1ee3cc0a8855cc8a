-- prelude.lua - the probe's scripts (group_probe.h): the one call they make.
-- A is the call's ARGV: a key prefix, then the call's name. The name comes
-- back, so an answer handed to the wrong thread is seen; every call that
-- answers also counts itself in A[1].."ran". A name that begins "conflict"
-- answers FW_ECONFLICT; one that begins "raise" counts itself in
-- A[1].."raised", then raises an error (a command Redis does not know).
local function echo(A)
  local name = A[2]
  if string.sub(name, 1, 8) == 'conflict' then return fw_error('CONFLICT', 'asked for') end
  if string.sub(name, 1, 5) == 'raise' then
    redis.call('INCR', A[1] .. 'raised')
    redis.call('NOSUCHCOMMAND')
  end
  redis.call('INCR', A[1] .. 'ran')
  return name
end
