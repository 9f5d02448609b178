--[[
  consume_rate: GCRA over several limits — all checked, then all written, or none.
  The same algorithm as lib/state/gcra.ts. Time is the server's (TIME), in fractional ms.

  KEYS[i]  the stored theoretical arrival time of limit i
  ARGV[1]  cost (messages)
  ARGV[2i], ARGV[2i+1]  interval ms and burst of limit i
  Returns { 1 allowed / 0 not, wait ms (text), now ms (text) }
]]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
local cost = tonumber(ARGV[1])
local nextTat, wait = {}, 0
for i = 1, #KEYS do
  local interval = tonumber(ARGV[2 * i])
  local burst = tonumber(ARGV[2 * i + 1])
  local tat = tonumber(redis.call('GET', KEYS[i])) or now
  if tat < now then tat = now end
  nextTat[i] = tat + cost * interval
  local over = nextTat[i] - now - burst * interval
  if over > wait then wait = over end
end
if wait > 0 then
  return { 0, string.format('%.3f', wait), string.format('%.3f', now) }
end
for i = 1, #KEYS do
  redis.call('SET', KEYS[i], string.format('%.3f', nextTat[i]), 'PX', string.format('%d', math.ceil(nextTat[i] - now) + 1000))
end
return { 1, '0', string.format('%.3f', now) }
