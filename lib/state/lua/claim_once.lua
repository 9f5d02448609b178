--[[
  claim_once: claims idempotency markers as 'pending:<token>'. Returns per key 'claimed' where this
  call took it, else 'sent' or 'pending' as an earlier run left it.
  KEYS[i]  marker keys;  ARGV[1]  ttl ms;  ARGV[2]  the claimer's token
]]
local out = {}
for i = 1, #KEYS do
  if redis.call('SET', KEYS[i], 'pending:' .. ARGV[2], 'NX', 'PX', ARGV[1]) then
    out[i] = 'claimed'
  elseif redis.call('GET', KEYS[i]) == 'sent' then
    out[i] = 'sent'
  else
    out[i] = 'pending'
  end
end
return out
