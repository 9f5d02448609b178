--[[
  record_health: one send outcome applied to a route's circuit, atomically (mirror of
  lib/state/health.ts). The circuit is a JSON field of the circuits hash, read by allocate.lua.

  KEYS[1]  the circuits hash
  ARGV[1]  route name;  ARGV[2]  1 success / 0 failure
  ARGV[3..7]  failure threshold, base ejection ms, max ejection ms, backoff, jitter factor
  Returns { state JSON, 1 if this call opened the circuit else 0 }
]]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local ok = ARGV[2] == '1'
local threshold, base, max, backoff, jitter = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])

local stored = redis.call('HGET', KEYS[1], ARGV[1])
local s = stored and cjson.decode(stored) or {}
s.openUntil = tonumber(s.openUntil) or 0
s.ejections = tonumber(s.ejections) or 0
s.failures = tonumber(s.failures) or 0
s.lastEjectedAt = tonumber(s.lastEjectedAt) or 0
if s.probing == nil then s.probing = false end

-- a probe's passes count only in a row and only while open (Probe Connection's Rise)
if not ok or s.openUntil <= now then s.probePasses = nil end

local opened = 0
if ok then
  if s.probing and s.openUntil <= now then s.probing = false end
  s.failures = 0
  if s.ejections > 0 and not s.probing and now - s.lastEjectedAt > max then s.ejections = 0 end
elseif s.openUntil <= now then
  s.failures = s.failures + 1
  if s.probing or s.failures >= threshold then
    s.ejections = s.ejections + 1
    local cool = math.min(base * math.pow(backoff, s.ejections - 1), max) * jitter
    s.openUntil = math.floor(now + cool + 0.5)
    s.failures = 0
    s.probing = true
    s.lastEjectedAt = now
    opened = 1
  end
end

local text = cjson.encode(s)
redis.call('HSET', KEYS[1], ARGV[1], text)
return { text, opened }
