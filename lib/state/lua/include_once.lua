--[[
  include_once: duplicate markers as leases, the rules of lib/state/once.ts (claimMarker,
  settleMarker) for the scripts that include it (-- @include include_once.lua). Times in ms.
]]

-- decodeMarker: a stored marker that is not 'sent' (once.ts parseMarker); `pending:<token>` is the
-- claim of 0.1.x, which never expired: in doubt
local function decodeMarker(v)
  if string.sub(v, 1, 8) == 'pending:' then return { s = 'doubt', o = 'an earlier version', at = 0 } end
  return cjson.decode(v)
end

-- claimOne: what a claim of the marker at key finds, and the lease it writes (peek: none)
local function claimOne(key, token, owner, leaseMs, ttl, takeExpired, peek, now)
  local function lease(delivered)
    if peek then return end
    local m = { s = 'lease', t = token, o = owner, at = now, u = now + leaseMs }
    if delivered and #delivered > 0 then m.d = delivered end
    redis.call('SET', key, cjson.encode(m), 'PX', ttl)
  end
  local v = redis.call('GET', key)
  if not v then
    lease(nil)
    return { state = 'claimed' }
  end
  if v == 'sent' then return { state = 'sent' } end
  local m = decodeMarker(v)
  if m.s == 'partial' then
    lease(m.d)
    return { state = 'claimed', delivered = m.d, since = m.at }
  end
  if m.s == 'lease' and m.u > now then
    return { state = 'leased', since = m.at, owner = m.o, leaseUntil = m.u }
  end
  if not takeExpired then return { state = 'in-doubt', since = m.at, owner = m.o } end
  lease(m.d)
  local answer = { state = 'claimed', reclaimed = { since = m.at, owner = m.o } }
  if m.d and #m.d > 0 then answer.delivered = m.d end
  return answer
end

-- settleOne: 'sent' is written whatever is there; the others only over the claim's own lease
local function settleOne(key, token, outcome, delivered, ttl, now)
  if outcome == 'sent' then
    redis.call('SET', key, 'sent', 'PX', ttl)
    return
  end
  local v = redis.call('GET', key)
  local m = nil
  if v and v ~= 'sent' and string.sub(v, 1, 8) ~= 'pending:' then m = cjson.decode(v) end
  if not (m and m.s == 'lease' and m.t == token) then return end
  local hasEarlier = m.d and #m.d > 0
  if outcome == 'partial' and delivered ~= '' then
    redis.call('SET', key, cjson.encode({ s = 'partial', at = now, d = cjson.decode(delivered) }), 'PX', ttl)
  elseif outcome == 'doubt' then
    local doubt = { s = 'doubt', o = m.o, at = m.at }
    if hasEarlier then doubt.d = m.d end
    redis.call('SET', key, cjson.encode(doubt), 'PX', ttl)
  elseif hasEarlier then
    -- release (or a partial that delivered nothing new): back to the earlier partial delivery
    redis.call('SET', key, cjson.encode({ s = 'partial', at = m.at, d = m.d }), 'PX', ttl)
  else
    redis.call('DEL', key)
  end
end
