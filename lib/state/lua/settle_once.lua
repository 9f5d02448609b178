--[[
  settle_once: settles claims of duplicate markers. The same rules as settleMarker in
  lib/state/once.ts: 'sent' is written whatever is there; 'release', 'partial' and 'doubt' only
  over the claim's own lease (its token).
  KEYS[i]  marker keys
  ARGV[1]  marker ttl ms;  then per key: token, outcome, delivered digests as JSON ('' if none)
]]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local ttl = ARGV[1]

for i = 1, #KEYS do
  local token, outcome, delivered = ARGV[3 * i - 1], ARGV[3 * i], ARGV[3 * i + 1]
  if outcome == 'sent' then
    redis.call('SET', KEYS[i], 'sent', 'PX', ttl)
  else
    local v = redis.call('GET', KEYS[i])
    local m = nil
    if v and v ~= 'sent' and string.sub(v, 1, 8) ~= 'pending:' then m = cjson.decode(v) end
    if m and m.s == 'lease' and m.t == token then
      local hasEarlier = m.d and #m.d > 0
      if outcome == 'partial' and delivered ~= '' then
        redis.call('SET', KEYS[i], cjson.encode({ s = 'partial', at = now, d = cjson.decode(delivered) }), 'PX', ttl)
      elseif outcome == 'doubt' then
        local doubt = { s = 'doubt', o = m.o, at = m.at }
        if hasEarlier then doubt.d = m.d end
        redis.call('SET', KEYS[i], cjson.encode(doubt), 'PX', ttl)
      elseif hasEarlier then
        -- release (or a partial that delivered nothing new): back to the earlier partial delivery
        redis.call('SET', KEYS[i], cjson.encode({ s = 'partial', at = m.at, d = m.d }), 'PX', ttl)
      else
        redis.call('DEL', KEYS[i])
      end
    end
  end
end
return 1
