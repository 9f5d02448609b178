--[[
  claim_once: claims duplicate markers as leases. The same rules as claimMarker in
  lib/state/once.ts (read it for the states); time is the server's (TIME), in ms.
  KEYS[i]  marker keys
  ARGV[1]  the claim's token   ARGV[2]  its owner (for people)   ARGV[3]  lease ms
  ARGV[4]  marker ttl ms (the duplicate window)   ARGV[5]  '1': take expired leases and doubts
  ARGV[6]  '1': peek — answer what a claim would find, write nothing
  Returns per key the answer as JSON (an OnceClaim).
]]
-- @include include_once.lua

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local out = {}
for i = 1, #KEYS do
  out[i] = cjson.encode(claimOne(KEYS[i], ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4],
    ARGV[5] == '1', ARGV[6] == '1', now))
end
return out
