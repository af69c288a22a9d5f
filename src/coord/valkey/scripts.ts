/**
 * Every read-modify-write on the coordination store is one Lua script, so it is atomic on the
 * server: no GET-then-EXPIRE window in which another controller could slip in.
 */

/** KEYS: lease, lease-token. ARGV: holder, ttlMs. Returns {acquired (0|1), token}. */
export const ACQUIRE_LEASE = `
local cur = redis.call('GET', KEYS[1])
if cur then
  local sep = string.find(cur, '|', 1, true)
  local holder = string.sub(cur, 1, sep - 1)
  local token = tonumber(string.sub(cur, sep + 1))
  if holder == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return {1, token}
  end
  return {0, token}
end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. token, 'PX', ARGV[2])
return {1, token}
`;

/** KEYS: lease. ARGV: expected value, ttlMs. */
export const RENEW_LEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`;

/** KEYS: lease. ARGV: expected value. */
export const RELEASE_LEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`;

/** KEYS: fail counter, lock. ARGV: maxAttempts, windowMs, lockMs, nowMs. Returns {failures, lockedUntil|-1}. */
export const LOGIN_FAILURE = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if n >= tonumber(ARGV[1]) then
  local untilMs = tonumber(ARGV[4]) + tonumber(ARGV[3])
  redis.call('SET', KEYS[2], untilMs, 'PX', ARGV[3])
  redis.call('DEL', KEYS[1])
  return {n, untilMs}
end
return {n, -1}
`;

/** KEYS: window counter. ARGV: windowMs. Returns {count, pttl}. */
export const RATE_LIMIT_HIT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl}
`;

/** KEYS: sequence, stream. ARGV: payload, maxLength. The stream id is the sequence, so order is global. */
export const APPEND_EVENT = `
local seq = redis.call('INCR', KEYS[1])
redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[2], seq .. '-0', 'p', ARGV[1])
return seq
`;

/** KEYS: lease-token. ARGV: floor. Never lowers the counter. */
export const RAISE_TOKEN = `
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if cur < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[1])
end
return 1
`;

/** KEYS: snapshot, family index. ARGV: id, value, ttlMs ('' for none). */
export const PUT_SNAPSHOT = `
if ARGV[3] == '' then
  redis.call('SET', KEYS[1], ARGV[2])
else
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
redis.call('SADD', KEYS[2], ARGV[1])
return 1
`;

/** KEYS: snapshot, family index. ARGV: id. */
export const DELETE_SNAPSHOT = `
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[1])
return 1
`;

/**
 * KEYS: snapshot, family index. ARGV: id, has expected (1|0), expected, has next (1|0), next.
 * Returns 1 when the value matched and was replaced (or deleted), else 0.
 */
export const SWAP_SNAPSHOT = `
local cur = redis.call('GET', KEYS[1])
if ARGV[2] == '1' then
  if cur ~= ARGV[3] then return 0 end
elseif cur then
  return 0
end
if ARGV[4] == '1' then
  redis.call('SET', KEYS[1], ARGV[5])
  redis.call('SADD', KEYS[2], ARGV[1])
else
  redis.call('DEL', KEYS[1])
  redis.call('SREM', KEYS[2], ARGV[1])
end
return 1
`;

/** KEYS: snapshot, family index. ARGV: id. Drops an index entry whose snapshot expired. */
export const PRUNE_SNAPSHOT_INDEX = `
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('SREM', KEYS[2], ARGV[1])
end
return 1
`;
