--[[
  release_once: an operator's release of duplicate markers, the rule of releaseMarker in
  lib/state/once.ts: a marker in doubt (an unknown outcome, or a lease that ran out) goes back to
  the partial delivery it carried, or is deleted; any other marker stays. The lifetime is kept.
  KEYS[i]  marker keys
  returns  per key 1 (released) or 0
]]

-- @include include_once.lua

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local out = {}
for i = 1, #KEYS do
  local released = 0
  local v = redis.call('GET', KEYS[i])
  if v and v ~= 'sent' then
    local m = decodeMarker(v)
    if m.s == 'doubt' or (m.s == 'lease' and m.u <= now) then
      if type(m.d) == 'table' and #m.d > 0 then
        redis.call('SET', KEYS[i], cjson.encode({ s = 'partial', at = m.at, d = m.d }), 'KEEPTTL')
      else
        redis.call('DEL', KEYS[i])
      end
      released = 1
    end
  end
  out[i] = released
end
return out
