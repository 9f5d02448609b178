--[[
  allocate: assigns a batch of items to routes, atomically, in one round trip.
  The same algorithm as lib/state/allocate.ts (the contract suite holds both to the same answers).

  KEYS[1]  counters hash   (class counter key -> sequence position)
  KEYS[2]  spills hash     (class counter key -> "n1,n2,..." spill counts per candidate)
  KEYS[3]  sticky hash     (recipient key -> route name) of this partitioner
  KEYS[4]  index set       (every sticky and cap key of the campaign, for clearScope)
  KEYS[5..] cap window counters, route by route, cap by cap
  KEYS[..]  when h = 1: the reputation hash of each group in g (route -> state JSON), in order
  KEYS[last] the circuits hash (route -> {"openUntil":..}) when h = 1; on Redis Cluster it lives in
           another slot, so the caller reads it first and sends o = openUntil per route (h = 0)
  ARGV[1]  JSON: { r = routes {n = name, u = circuit name, o = openUntil, c = {{limit, resetAt}, ...}}, h = 0/1,
                   k = classes {k = counter key, y = cycle (0-based routes), n = repeat,
                                c = candidates (0-based), w = weights, p = 1 priority / 0 weights},
                   i = the items as runs of alike ones {{class (0-based), preferred route (0-based) or false,
                       1 sticky key / 0 none, how many, group (0-based index into g) or false}, ...},
                   g = the items' domain groups {{n = name, s = per route the state JSON or false
                       (only when h = 0: the caller read them)}, ...} (absent: none),
                   w = the sticky keys' width when all have the same number of bytes (0: they differ),
                   u = 1 when no two items have the same sticky key (the caller checked: no table
                       of the batch's keys is needed), else 0,
                   d = dry run 0/1, t = ttl ms }
  ARGV[2..] the sticky keys of the items that have one, in item order: with w > 0 all of them in
           ARGV[2], w bytes each (struct.unpack splits them in one call), else one per argument
  (Keys travel as arguments, not JSON: decoding a table per item was a third of the script's time;
  one argument of 1000 keys costs the client a third of a millisecond less than 1000 arguments.)
  Returns { per item in order, `width` characters, the base-94 digits ('!' = 0) of
            (route + 1) * 4 + via (route 0-based, -1 deferred; via 0 sequence, 1 sticky, 2 spill, 3 deferred),
            now, openUntil per route, each class's sequence position before the call,
            retryAt of each deferred item in order,
            the reputation states read, group by group, route by route ('' where none) }
  The caller derives each item's position from the classes' first positions: every item its class
  sequence placed (sequence or spill, no preferred route) takes the next one.
]]
local req = cjson.decode(ARGV[1])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)

local routes = req.r
local classes = req.k
local nRoutes = #routes

local circuitUntil = {}
if req.h == 1 then
  local names = {}
  for r = 1, nRoutes do names[r] = routes[r].u end
  local stored = redis.call('HMGET', KEYS[#KEYS], unpack(names))
  for r = 1, nRoutes do
    circuitUntil[r] = stored[r] and (tonumber(cjson.decode(stored[r]).openUntil) or 0) or 0
  end
else
  for r = 1, nRoutes do circuitUntil[r] = routes[r].o or 0 end
end

-- room[r]: circuit closed and every cap window below its limit, kept up to date as caps fill
local open, capUsed, capKey, routeIndex, room = {}, {}, {}, {}, {}
local nextKey = 5
for r = 1, nRoutes do
  local rt = routes[r]
  routeIndex[rt.n] = r - 1
  open[r] = (circuitUntil[r] > now) and circuitUntil[r] or 0
  capUsed[r], capKey[r] = {}, {}
  room[r] = open[r] == 0
  for k = 1, #rt.c do
    capUsed[r][k] = tonumber(redis.call('GET', KEYS[nextKey])) or 0
    capKey[r][k] = nextKey
    nextKey = nextKey + 1
    if capUsed[r][k] >= rt.c[k][1] then room[r] = false end
  end
end

-- route reputation per group (lib/state/reputation.ts reputationShare, operation for operation):
-- share[g][r] is the part of its traffic route r keeps for group g, suspUntil[g][r] when a
-- suspension ends (0: not suspended)
local groups = req.g or {}
local share, suspUntil, repOut = {}, {}, {}
do
  local names = {}
  for r = 1, nRoutes do names[r] = routes[r].n end
  for g = 1, #groups do
    local texts = groups[g].s
    if req.h == 1 then
      texts = redis.call('HMGET', KEYS[nextKey], unpack(names))
      nextKey = nextKey + 1
    end
    share[g], suspUntil[g] = {}, {}
    for r = 1, nRoutes do
      local text = texts[r]
      local f, ends = 1, 0
      if text then
        repOut[#repOut + 1] = text
        local s = cjson.decode(text)
        local su, ru, tu = tonumber(s.suspendedUntil) or 0, tonumber(s.rampUntil) or 0, tonumber(s.throttledUntil) or 0
        if su > now then
          f, ends = 0, su
        else
          if tu > now then f = tonumber(s.factor) or 1 end
          if ru > now and ru > su then
            f = f * (0.25 + ((1 - 0.25) * (now - su)) / (ru - su))
          end
        end
      else
        repOut[#repOut + 1] = ''
      end
      share[g][r], suspUntil[g][r] = f, ends
    end
  end
end
-- an item at sequence position x stays on a route keeping `part` of its traffic (keepsShare)
local function keeps(x, part)
  local y = x * 0.6180339887498949
  return (y - math.floor(y)) < part
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
local pos, firstPos, spills, isCandidate = {}, {}, {}, {}
for c = 1, #classes do
  pos[c] = tonumber(storedPos[c]) or 0
  firstPos[c] = pos[c]
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

-- the sticky assignments already stored, one per keyed item (false: none), read in chunks
-- (unpack has a stack limit)
local keys, nKeys = ARGV, #ARGV - 1
if req.w > 0 then
  local all, w = ARGV[2], req.w
  nKeys = #all / w
  keys = { false }
  for s = 1, nKeys, 1000 do
    local count = math.min(1000, nKeys - s + 1)
    -- (the last value is the position after the chunk: keys beyond nKeys + 1 are never read)
    local fmt = string.rep('c' .. w, count)
    if s == 1 then
      keys = { false, struct.unpack(fmt, all) }
    else
      local part = { struct.unpack(fmt, all, (s - 1) * w + 1) }
      for j = 1, count do keys[s + j] = part[j] end
    end
  end
end
local stored = {}
for s = 2, nKeys + 1, 1000 do
  local vals = redis.call('HMGET', KEYS[3], unpack(keys, s, math.min(s + 999, nKeys + 1)))
  if s == 2 then
    stored = vals
  else
    for j = 1, #vals do stored[s - 2 + j] = vals[j] end
  end
end

-- the reply's digits for every code a route and via can make
local width, span = 1, 94
while span <= nRoutes * 4 + 3 do
  width, span = width + 1, span * 94
end
local digits = {}
for code = 0, nRoutes * 4 + 3 do
  local chars, v = {}, code
  for d = width, 1, -1 do
    chars[d] = string.char(33 + v % 94)
    v = math.floor(v / 94)
  end
  digits[code] = table.concat(chars)
end

-- the loop's tables and functions as locals: a global or a field lookup per item adds up
local floor, names = math.floor, {}
for r = 1, nRoutes do names[r] = routes[r].n end
local out, retry, nRetry = {}, {}, 0
-- the batch's new assignments in the order first made (key, route); with repeated keys a table of
-- them by key too, for a later item of the same key
local distinct = req.u == 1
local newSticky, newStickyOrder, newRoute, nNew = {}, {}, {}, 0
-- per class, the items placed on a preferred route of reduced share so far (their keeps position)
local prefCount = {}
for c = 1, #classes do prefCount[c] = 0 end
local i, ki = 0, 0
local runs = req.i
for run = 1, #runs do
  local c = runs[run][1] + 1
  local prefer = runs[run][2]
  local keyed = runs[run][3] == 1
  local grp = runs[run][5]
  local sh, su = nil, nil
  if grp then sh, su = share[grp + 1], suspUntil[grp + 1] end
  local cls = classes[c]
  local cycle, cycleLen, rep = cls.y, #cls.y, cls.n
  local cand, nCand, weights, priority = cls.c, #cls.c, cls.w, cls.p == 1
  local candidate, counts = isCandidate[c], spills[c]
  local p = pos[c]
  for _ = 1, runs[run][4] do
    i = i + 1
    local key = false
    if keyed then
      ki = ki + 1
      key = keys[ki + 1]
    end
    local done = false
    if key then
      local prior = stored[ki]
      if not distinct then prior = newSticky[key] or prior end
      if prior then
        local r0 = routeIndex[prior]
        if r0 ~= nil and candidate[r0] and (not sh or sh[r0 + 1] > 0) then
          out[i] = digits[(r0 + 1) * 4 + 1]
          done = true
        end
      end
    end
    if not done then
      local chosen, via = -1, 0
      local seq = prefer
      if not prefer then
        seq = cycle[((rep == 1) and p or floor(p / rep)) % cycleLen + 1]
      end
      local takes = room[seq + 1]
      if takes and sh and sh[seq + 1] < 1 then
        if sh[seq + 1] > 0 then
          local x = p
          if prefer then
            x = p + prefCount[c]
            prefCount[c] = prefCount[c] + 1
          end
          takes = keeps(x, sh[seq + 1])
        else
          takes = false
        end
      end
      if takes then
        chosen = seq
      else
        via = 2
        local best = -1
        -- routes at their full share first; a throttled one takes a spill only when none is left
        local pass = sh and 0 or 1
        while pass < 2 and best == -1 do
          local bestScore = math.huge
          for k = 1, nCand do
            local ck = cand[k] + 1
            if room[ck] and (not sh or (pass == 0 and sh[ck] >= 1) or (pass == 1 and sh[ck] > 0)) then
              if priority then
                best = k
                break
              end
              local score = (counts[k] + 1) / weights[k]
              if score < bestScore then
                bestScore, best = score, k
              end
            end
          end
          pass = pass + 1
        end
        if best ~= -1 then
          chosen = cand[best]
          counts[best] = counts[best] + 1
        end
      end
      if chosen == -1 then
        local t = math.huge
        for k = 1, nCand do
          local r = reopensAt(cand[k] + 1)
          if su and su[cand[k] + 1] > r then r = su[cand[k] + 1] end
          if r < t then t = r end
        end
        out[i] = digits[3]
        nRetry = nRetry + 1
        retry[nRetry] = (t == math.huge) and 0 or t
      else
        if not prefer then p = p + 1 end
        local r = chosen + 1
        local caps = capUsed[r]
        if caps[1] then
          local limits = routes[r].c
          for k = 1, #caps do
            caps[k] = caps[k] + 1
            if caps[k] >= limits[k][1] then room[r] = false end
          end
        end
        out[i] = digits[r * 4 + via]
        if key then
          if distinct then
            nNew = nNew + 1
            newStickyOrder[nNew], newRoute[nNew] = key, names[r]
          else
            if not newSticky[key] then
              nNew = nNew + 1
              newStickyOrder[nNew] = key
            end
            newSticky[key] = names[r]
          end
        end
      end
    end
  end
  pos[c] = p
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
  for s = 1, nNew, 500 do
    local fields, f = {}, 0
    for j = s, math.min(s + 499, nNew) do
      local key = newStickyOrder[j]
      fields[f + 1], fields[f + 2] = key, distinct and newRoute[j] or newSticky[key]
      f = f + 2
    end
    redis.call('HSET', KEYS[3], unpack(fields))
  end
  -- every call of the partition keeps its sticky assignments alive, a hit as much as a new one
  if redis.call('PEXPIRE', KEYS[3], ttl) == 1 then
    redis.call('SADD', KEYS[4], KEYS[3])
  end
  -- the index lives as long as the longest-lived key it lists: a cap window can outlast the TTL
  local keepUntil = now + req.t
  for r = 1, nRoutes do
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

return { table.concat(out), now, open, firstPos, retry, repOut }
