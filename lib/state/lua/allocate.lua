--[[
  allocate: assigns a batch of items to routes, atomically, in one round trip.
  The same algorithm as lib/state/allocate.ts (the contract suite holds both to the same answers).

  KEYS[1]  counters hash   (class counter key -> sequence position)
  KEYS[2]  spills hash     (class counter key -> "n1,n2,..." spill counts per candidate)
  KEYS[3]  sticky hash     (recipient key -> route name) of this partitioner
  KEYS[4]  index set       (every sticky and cap key of the campaign, for clearScope)
  KEYS[5..] cap window counters, route by route, cap by cap
  KEYS[last] the circuits hash (route -> {"openUntil":..}) when h = 1; on Redis Cluster it lives in
           another slot, so the caller reads it first and sends o = openUntil per route (h = 0)
  ARGV[1]  JSON: { r = routes {n = name, u = circuit name, o = openUntil, c = {{limit, resetAt}, ...}}, h = 0/1,
                   k = classes {k = counter key, y = cycle (0-based routes), n = repeat,
                                c = candidates (0-based), w = weights, p = 1 priority / 0 weights},
                   i = items {{class (0-based), key or false, preferred route (0-based)?}, ...},
                   d = dry run 0/1, t = ttl ms }
  Returns { routes (0-based, -1 deferred), vias (0 sequence, 1 sticky, 2 spill, 3 deferred), retryAt, now, openUntil per route,
            sequence positions (-1 for a sticky, preferred or deferred item) }
]]
local req = cjson.decode(ARGV[1])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)

local routes = req.r
local classes = req.k
local items = req.i

local circuitUntil = {}
if req.h == 1 then
  local names = {}
  for r = 1, #routes do names[r] = routes[r].u end
  local stored = redis.call('HMGET', KEYS[#KEYS], unpack(names))
  for r = 1, #routes do
    circuitUntil[r] = stored[r] and (tonumber(cjson.decode(stored[r]).openUntil) or 0) or 0
  end
else
  for r = 1, #routes do circuitUntil[r] = routes[r].o or 0 end
end

local open, capUsed, capKey, routeIndex = {}, {}, {}, {}
local nextKey = 5
for r = 1, #routes do
  local rt = routes[r]
  routeIndex[rt.n] = r - 1
  open[r] = (circuitUntil[r] > now) and circuitUntil[r] or 0
  capUsed[r], capKey[r] = {}, {}
  for k = 1, #rt.c do
    capUsed[r][k] = tonumber(redis.call('GET', KEYS[nextKey])) or 0
    capKey[r][k] = nextKey
    nextKey = nextKey + 1
  end
end

local function hasRoom(r)
  if open[r] ~= 0 then return false end
  local caps = routes[r].c
  for k = 1, #caps do
    if capUsed[r][k] >= caps[k][1] then return false end
  end
  return true
end

local function reopensAt(r)
  local t = open[r]
  local caps = routes[r].c
  for k = 1, #caps do
    if capUsed[r][k] >= caps[k][1] and caps[k][2] > t then t = caps[k][2] end
  end
  return t
end

local counterKeys = {}
for c = 1, #classes do counterKeys[c] = classes[c].k end
local storedPos = redis.call('HMGET', KEYS[1], unpack(counterKeys))
local storedSpill = redis.call('HMGET', KEYS[2], unpack(counterKeys))
local pos, spills, isCandidate = {}, {}, {}
for c = 1, #classes do
  pos[c] = tonumber(storedPos[c]) or 0
  local n = #classes[c].c
  local parts = {}
  if storedSpill[c] then
    for x in string.gmatch(storedSpill[c], '[^,]+') do parts[#parts + 1] = tonumber(x) end
  end
  spills[c] = {}
  for k = 1, n do spills[c][k] = (#parts == n) and parts[k] or 0 end
  isCandidate[c] = {}
  for k = 1, n do isCandidate[c][classes[c].c[k]] = true end
end

-- sticky assignments already stored, read in chunks (unpack has a stack limit)
local sticky, wanted, seen = {}, {}, {}
for i = 1, #items do
  local key = items[i][2]
  if key and not seen[key] then
    seen[key] = true
    wanted[#wanted + 1] = key
  end
end
for s = 1, #wanted, 1000 do
  local chunk = {}
  for j = s, math.min(s + 999, #wanted) do chunk[#chunk + 1] = wanted[j] end
  local vals = redis.call('HMGET', KEYS[3], unpack(chunk))
  for j = 1, #chunk do
    if vals[j] then sticky[chunk[j]] = vals[j] end
  end
end

local outRoute, outVia, outRetry, outPos = {}, {}, {}, {}
local newSticky, newStickyOrder = {}, {}
for i = 1, #items do
  local c = items[i][1] + 1
  local key = items[i][2]
  local cls = classes[c]
  local done = false
  if key then
    local prior = newSticky[key] or sticky[key]
    if prior then
      local r0 = routeIndex[prior]
      if r0 ~= nil and isCandidate[c][r0] then
        outRoute[i], outVia[i], outRetry[i], outPos[i] = r0, 1, 0, -1
        done = true
      end
    end
  end
  if not done then
    local chosen, via = -1, 0
    local prefer = items[i][3]
    local seq = prefer
    if prefer == nil then
      local cycle = cls.y
      seq = cycle[(math.floor(pos[c] / cls.n) % #cycle) + 1]
    end
    if hasRoom(seq + 1) then
      chosen = seq
    else
      via = 2
      local best, bestScore = -1, math.huge
      for k = 1, #cls.c do
        if hasRoom(cls.c[k] + 1) then
          if cls.p == 1 then
            best = k
            break
          end
          local score = (spills[c][k] + 1) / cls.w[k]
          if score < bestScore then
            bestScore, best = score, k
          end
        end
      end
      if best ~= -1 then
        chosen = cls.c[best]
        spills[c][best] = spills[c][best] + 1
      end
    end
    if chosen == -1 then
      local t = math.huge
      for k = 1, #cls.c do
        local r = reopensAt(cls.c[k] + 1)
        if r < t then t = r end
      end
      outRoute[i], outVia[i], outRetry[i], outPos[i] = -1, 3, (t == math.huge) and 0 or t, -1
    else
      if prefer == nil then
        outPos[i] = pos[c]
        pos[c] = pos[c] + 1
      else
        outPos[i] = -1
      end
      local caps = capUsed[chosen + 1]
      for k = 1, #caps do caps[k] = caps[k] + 1 end
      outRoute[i], outVia[i], outRetry[i] = chosen, via, 0
      if key then
        if not newSticky[key] then newStickyOrder[#newStickyOrder + 1] = key end
        newSticky[key] = routes[chosen + 1].n
      end
    end
  end
end

if req.d == 0 then
  local ttl = string.format('%d', req.t)
  local counters, spillText = {}, {}
  for c = 1, #classes do
    counters[#counters + 1] = classes[c].k
    counters[#counters + 1] = string.format('%d', pos[c])
    spillText[#spillText + 1] = classes[c].k
    spillText[#spillText + 1] = table.concat(spills[c], ',')
  end
  redis.call('HSET', KEYS[1], unpack(counters))
  redis.call('HSET', KEYS[2], unpack(spillText))
  redis.call('PEXPIRE', KEYS[1], ttl)
  redis.call('PEXPIRE', KEYS[2], ttl)
  for s = 1, #newStickyOrder, 500 do
    local fields = {}
    for j = s, math.min(s + 499, #newStickyOrder) do
      local key = newStickyOrder[j]
      fields[#fields + 1] = key
      fields[#fields + 1] = newSticky[key]
    end
    redis.call('HSET', KEYS[3], unpack(fields))
  end
  -- every call of the partition keeps its sticky assignments alive, a hit as much as a new one
  if redis.call('PEXPIRE', KEYS[3], ttl) == 1 then
    redis.call('SADD', KEYS[4], KEYS[3])
  end
  -- the index lives as long as the longest-lived key it lists: a cap window can outlast the TTL
  local keepUntil = now + req.t
  for r = 1, #routes do
    local caps = routes[r].c
    for k = 1, #caps do
      local resetAt = caps[k][2]
      if resetAt > now then
        redis.call('SET', KEYS[capKey[r][k]], string.format('%d', capUsed[r][k]), 'PXAT', string.format('%d', resetAt))
        redis.call('SADD', KEYS[4], KEYS[capKey[r][k]])
        if resetAt > keepUntil then keepUntil = resetAt end
      end
    end
  end
  local left = redis.call('PTTL', KEYS[4])
  if left == -1 or (left >= 0 and now + left < keepUntil) then
    redis.call('PEXPIREAT', KEYS[4], string.format('%d', keepUntil))
  end
end

return { outRoute, outVia, outRetry, now, open, outPos }
