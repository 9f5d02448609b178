--[[
  count_outcomes: outcome counters added to their buckets in one call (mirror of the memory and
  SQLite stores' countOutcomes; lib/state/outcomes.ts has the fields and the bucket lifetimes).
  A bucket whose time is already over (its expiry is past by the server's clock) is not revived.
  Then the pair index (outcomes.ts mergeOutcomePairs): each pair's lastAt raised to the call's,
  entries whose hour bucket is gone dropped, at most `cap` kept (the lowest ranked dropped first:
  the least recently counted, ties the lowest member), the set kept as long as its latest entry.

  KEYS     the buckets' keys, then the pair index ({rep} slot, all of them)
  ARGV     per bucket key: its expiry (epoch ms), the number of fields n, then n pairs field, count;
           then hourMs, keepMs (the hour buckets' size and lifetime), cap, the number of pairs m,
           then m triples member, lastAt, expiresAt
  Returns the number of buckets written
]]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local a = 1
local written = 0
local buckets = #KEYS - 1
for k = 1, buckets do
  local expiresAt = tonumber(ARGV[a])
  local n = tonumber(ARGV[a + 1])
  a = a + 2
  if expiresAt > now then
    for f = 1, n do
      redis.call('HINCRBY', KEYS[k], ARGV[a + (f - 1) * 2], ARGV[a + (f - 1) * 2 + 1])
    end
    redis.call('PEXPIREAT', KEYS[k], expiresAt)
    written = written + 1
  end
  a = a + n * 2
end

local index = KEYS[#KEYS]
local hourMs = tonumber(ARGV[a])
local keepMs = tonumber(ARGV[a + 1])
local cap = tonumber(ARGV[a + 2])
local m = tonumber(ARGV[a + 3])
a = a + 4
local added = false
for p = 1, m do
  local member = ARGV[a]
  local lastAt = tonumber(ARGV[a + 1])
  if tonumber(ARGV[a + 2]) > now then
    local prior = redis.call('ZSCORE', index, member)
    if not prior or tonumber(prior) < lastAt then
      redis.call('ZADD', index, ARGV[a + 1], member)
    end
    added = true
  end
  a = a + 3
end
if added then
  -- an entry lives while floor(lastAt / hour) * hour + hour + keep > now, that is while
  -- lastAt >= (floor((now - hour - keep) / hour) + 1) * hour
  local live = (math.floor((now - hourMs - keepMs) / hourMs) + 1) * hourMs
  redis.call('ZREMRANGEBYSCORE', index, '-inf', '(' .. string.format('%d', live))
  local size = redis.call('ZCARD', index)
  if size > cap then
    redis.call('ZREMRANGEBYRANK', index, 0, size - cap - 1)
  end
  local top = redis.call('ZREVRANGE', index, 0, 0, 'WITHSCORES')
  local latest = tonumber(top[2])
  redis.call('PEXPIREAT', index, math.floor(latest / hourMs) * hourMs + hourMs + keepMs)
end
return written
