--[[
  include_gcra: GCRA by reservation over several limits, the algorithm of lib/state/gcra.ts
  (reserve), step by step, for the scripts that include it (-- @include include_gcra.lua).
  The earliest slot every limit allows is written into all of them (at a chain's end, or held past
  a gap in it), or nothing is written when that slot is more than the longest wait away. Times
  are fractional ms; they are stored to the microsecond.

  A limit's state: "tat", then ";slot,cost" per held slot (a bare number: none held).
]]
local GCRA_EPS = 1e-3
local GCRA_MAX_HELD = 256
local GCRA_MAX_ROUNDS = 16

local function round3(v) return tonumber(string.format('%.3f', v)) end

-- reserveRate: keys[i] holds limit i (interval ms intervals[i], burst bursts[i]).
-- Returns granted (boolean) and the wait in ms (to the slot, or to the slot it would have had).
local function reserveRate(keys, cost, maxWait, intervals, bursts, now)
  local n = #keys
  local interval, burst, tats, helds = intervals, bursts, {}, {}

  -- settleRate: read each state; held slots that have come due join the chain
  for i = 1, n do
    local text = redis.call('GET', keys[i])
    local tat, held = now, {}
    if text then
      local first = true
      for part in string.gmatch(text, '[^;]+') do
        if first then
          tat = tonumber(part)
          first = false
        else
          local at, c = string.match(part, '^([^,]+),(.+)$')
          at, c = tonumber(at), tonumber(c)
          if at <= now then
            tat = math.max(tat, at) + c * interval[i]
          else
            held[#held + 1] = { at, c }
          end
        end
      end
    end
    tats[i], helds[i] = tat, held
  end

  -- heldFit: the held slots from k on still keep to the limit after the chain reached t
  local function heldFit(i, t, k)
    local room = burst[i] * interval[i]
    local held = helds[i]
    for m = k, #held do
      local q, qc = held[m][1], held[m][2]
      t = math.max(t, q) + qc * interval[i]
      if t - q > room + GCRA_EPS then return false end
    end
    return true
  end

  -- earliestSlot: the earliest slot at or after lower where cost more messages keep to limit i
  local function earliestSlot(i, lower)
    local I = interval[i]
    local room = burst[i] * I
    local held = helds[i]
    local tat = tats[i]
    local from = lower
    local k = 1
    while true do
      local x = math.max(from, tat + cost * I - room)
      if k > #held then return x end
      local p, pc = held[k][1], held[k][2]
      if x < p - GCRA_EPS and heldFit(i, math.max(tat, x) + cost * I, k) then return x end
      tat = math.max(tat, p) + pc * I
      if p > from then from = p end
      k = k + 1
    end
  end

  -- slotAfterAll: the earliest slot at or after lower past every held slot of limit i
  local function slotAfterAll(i, lower)
    local I = interval[i]
    local tat, last = tats[i], lower
    for _, h in ipairs(helds[i]) do
      tat = math.max(tat, h[1]) + h[2] * I
      if h[1] > last then last = h[1] end
    end
    return math.max(last, tat + cost * I - burst[i] * I)
  end

  local at = now
  local agreed = false
  local round = 0
  while round < GCRA_MAX_ROUNDS and not agreed do
    local nextAt = at
    for i = 1, n do nextAt = math.max(nextAt, earliestSlot(i, at)) end
    agreed = nextAt <= at + GCRA_EPS
    at = nextAt
    round = round + 1
  end
  if not agreed then
    for i = 1, n do at = math.max(at, slotAfterAll(i, at)) end
  end

  local wait = round3(math.max(0, at - now))
  if wait > maxWait then return false, wait end

  -- placeSlot, then the state's end (rateStateEnd) for its expiry
  for i = 1, n do
    local I = interval[i]
    local tat, held = tats[i], helds[i]
    if (#held == 0 or at < held[1][1] - GCRA_EPS) and at <= math.max(tat, now) + GCRA_EPS then
      tat = math.max(tat, at) + cost * I
    else
      local k = 1
      while k <= #held and held[k][1] <= at + GCRA_EPS do k = k + 1 end
      table.insert(held, k, { round3(at), cost })
      while #held > GCRA_MAX_HELD do
        local first = table.remove(held, 1)
        tat = math.max(tat, first[1]) + first[2] * I
      end
    end
    tat = round3(tat)
    local parts = { string.format('%.3f', tat) }
    local stateEnd = tat
    for _, h in ipairs(held) do
      parts[#parts + 1] = string.format('%.3f,%d', h[1], h[2])
      stateEnd = math.max(stateEnd, h[1]) + h[2] * I
    end
    redis.call('SET', keys[i], table.concat(parts, ';'), 'PX',
      string.format('%d', math.ceil(stateEnd - now) + 1000))
  end
  return true, wait
end
