--[[
  claim_once: claims duplicate markers as leases. The same rules as claimMarker in
  lib/state/once.ts (read it for the states); time is the server's (TIME), in ms.
  KEYS[i]  marker keys
  ARGV[1]  the claim's token   ARGV[2]  its owner (for people)   ARGV[3]  lease ms
  ARGV[4]  marker ttl ms (the duplicate window)   ARGV[5]  '1': take expired leases and doubts
  ARGV[6]  '1': peek — answer what a claim would find, write nothing
  Returns per key the answer as JSON (an OnceClaim).
]]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local token, owner, leaseMs, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local takeExpired = ARGV[5] == '1'
local peek = ARGV[6] == '1'

local function lease(key, delivered)
  if peek then return end
  local m = { s = 'lease', t = token, o = owner, at = now, u = now + leaseMs }
  if delivered and #delivered > 0 then m.d = delivered end
  redis.call('SET', key, cjson.encode(m), 'PX', ttl)
end

local out = {}
for i = 1, #KEYS do
  local v = redis.call('GET', KEYS[i])
  local answer
  if not v then
    lease(KEYS[i], nil)
    answer = { state = 'claimed' }
  elseif v == 'sent' then
    answer = { state = 'sent' }
  else
    local m
    if string.sub(v, 1, 8) == 'pending:' then
      m = { s = 'doubt', o = 'an earlier version', at = 0 }
    else
      m = cjson.decode(v)
    end
    if m.s == 'partial' then
      lease(KEYS[i], m.d)
      answer = { state = 'claimed', delivered = m.d, since = m.at }
    elseif m.s == 'lease' and m.u > now then
      answer = { state = 'leased', since = m.at, owner = m.o, leaseUntil = m.u }
    elseif not takeExpired then
      answer = { state = 'in-doubt', since = m.at, owner = m.o }
    else
      lease(KEYS[i], m.d)
      answer = { state = 'claimed', reclaimed = { since = m.at, owner = m.o } }
      if m.d and #m.d > 0 then answer.delivered = m.d end
    end
  end
  out[i] = cjson.encode(answer)
end
return out
