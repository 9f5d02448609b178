--[[
  suppress: entries added to a suppression list, each merged with what the list holds for its key
  (mirror of mergeSuppression in lib/state/suppression.ts): a lasting entry is never shortened,
  a passing one gives way to a lasting one or to one that lasts longer, one that has passed is
  replaced.

  KEYS[1]  the list's hash (digest → entry JSON)
  ARGV     per entry three values: the digest, the entry's JSON, its until (epoch ms; '' = never)
  Returns the number of entries written
]]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local written = 0
for i = 1, #ARGV, 3 do
  local field, text, incoming = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local write = true
  local stored = redis.call('HGET', KEYS[1], field)
  if stored then
    local current = tonumber(cjson.decode(stored).u)
    if current == nil then
      -- lasting, and still applies
      write = false
    elseif current > now and incoming ~= '' and tonumber(incoming) <= current then
      -- passing and still applies, and the new one ends no later
      write = false
    end
  end
  if write then
    redis.call('HSET', KEYS[1], field, text)
    written = written + 1
  end
end
return written
