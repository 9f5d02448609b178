--[[
  count_outcomes: outcome counters added to their buckets in one call (mirror of the memory and
  SQLite stores' countOutcomes; lib/state/outcomes.ts has the fields and the bucket lifetimes).
  A bucket whose time is already over (its expiry is past by the server's clock) is not revived.

  KEYS     the buckets' keys ({rep} slot)
  ARGV     per key: its expiry (epoch ms), the number of fields n, then n pairs field, count
  Returns the number of buckets written
]]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local a = 1
local written = 0
for k = 1, #KEYS do
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
return written
