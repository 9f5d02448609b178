--[[
  settle_once: settles claims of duplicate markers. The same rules as settleMarker in
  lib/state/once.ts: 'sent' is written whatever is there; 'release', 'partial' and 'doubt' only
  over the claim's own lease (its token).
  KEYS[i]  marker keys
  ARGV[1]  marker ttl ms;  then per key: token, outcome, delivered digests as JSON ('' if none)
]]
-- @include include_once.lua

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
for i = 1, #KEYS do
  settleOne(KEYS[i], ARGV[3 * i - 1], ARGV[3 * i], ARGV[3 * i + 1], ARGV[1], now)
end
return 1
