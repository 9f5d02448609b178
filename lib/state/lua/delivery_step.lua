--[[
  delivery_step: one step of the send pipeline, the rules of lib/state/step.ts (runDeliveryStep):
  settle the tries that ended, claim the markers of tries whose rate slot has come, then reserve
  rate slots for tries to come (one whose marker is not free reserves nothing). Time is the
  server's (TIME).

  KEYS     the settled markers, the claimed markers, then per reservation: its marker (if it has
           one), then its rate limits
  ARGV[1..3]  settlements S, claims C, reservations R   ARGV[4]  marker ttl ms   ARGV[5]  owner
  ARGV[6]  lease ms   ARGV[7]  '1': take expired leases and doubts   ARGV[8]  the longest wait, ms
  then per settlement: token, outcome, delivered digests as JSON ('' if none)
  then per claim: token
  then per reservation: '1' if it has a marker, its number of limits L, L × (interval ms, burst)
  Returns C claims as JSON, then per reservation 3 texts (the marker's answer as JSON when it is
  not free, else ''; '1'/'0' granted; wait ms), then the rate clock (now ms)
]]
-- @include include_once.lua
-- @include include_gcra.lua

local time = redis.call('TIME')
local nowMs = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local nowRate = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
local S, C, R = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local ttl, owner, leaseMs = ARGV[4], ARGV[5], tonumber(ARGV[6])
local takeExpired, maxWait = ARGV[7] == '1', tonumber(ARGV[8])

local a, k = 9, 1
for _ = 1, S do
  settleOne(KEYS[k], ARGV[a], ARGV[a + 1], ARGV[a + 2], ttl, nowMs)
  a, k = a + 3, k + 1
end

local out = {}
for _ = 1, C do
  out[#out + 1] = cjson.encode(claimOne(KEYS[k], ARGV[a], owner, leaseMs, ttl, takeExpired, false, nowMs))
  a, k = a + 1, k + 1
end

for _ = 1, R do
  local hasMarker, L = ARGV[a] == '1', tonumber(ARGV[a + 1])
  a = a + 2
  local seen = nil
  if hasMarker then
    -- a slot for a message that will not be sent would hold back every later one
    seen = claimOne(KEYS[k], '', owner, leaseMs, ttl, takeExpired, true, nowMs)
    k = k + 1
  end
  local keys, intervals, bursts = {}, {}, {}
  for i = 1, L do
    keys[i], intervals[i], bursts[i] = KEYS[k], tonumber(ARGV[a]), tonumber(ARGV[a + 1])
    a, k = a + 2, k + 1
  end
  if seen and seen.state ~= 'claimed' then
    out[#out + 1] = cjson.encode(seen)
    out[#out + 1] = ''
    out[#out + 1] = ''
  else
    local granted, wait = reserveRate(keys, 1, maxWait, intervals, bursts, nowRate)
    out[#out + 1] = ''
    out[#out + 1] = granted and '1' or '0'
    out[#out + 1] = string.format('%.3f', wait)
  end
end
out[#out + 1] = string.format('%.3f', nowRate)
return out
