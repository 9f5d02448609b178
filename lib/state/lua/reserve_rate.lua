--[[
  reserve_rate: GCRA by reservation over several limits (include_gcra.lua, the same algorithm as
  lib/state/gcra.ts reserve). Time is the server's (TIME), in fractional ms.

  KEYS[i]  the state of limit i
  ARGV[1]  cost (messages)
  ARGV[2]  the longest wait, ms
  ARGV[2i+1], ARGV[2i+2]  interval ms and burst of limit i
  Returns { 1 granted / 0 refused, wait ms (text), now ms (text) }
]]
-- @include include_gcra.lua

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
local intervals, bursts = {}, {}
for i = 1, #KEYS do
  intervals[i] = tonumber(ARGV[2 * i + 1])
  bursts[i] = tonumber(ARGV[2 * i + 2])
end
local granted, wait = reserveRate(KEYS, tonumber(ARGV[1]), tonumber(ARGV[2]), intervals, bursts, now)
return { granted and 1 or 0, string.format('%.3f', wait), string.format('%.3f', now) }
