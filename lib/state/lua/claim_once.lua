--[[
  claim_once: claims idempotency markers; 1 where this call claimed the key, 0 where it was taken.
  KEYS[i]  marker keys;  ARGV[1]  ttl ms
]]
local out = {}
for i = 1, #KEYS do
  out[i] = redis.call('SET', KEYS[i], '1', 'NX', 'PX', ARGV[1]) and 1 or 0
end
return out
