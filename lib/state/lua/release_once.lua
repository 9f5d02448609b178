--[[
  release_once: deletes markers still pending under the caller's token (compare-and-delete), so a
  release never removes a marker that another run claimed or that was confirmed as sent.
  KEYS[i]  marker keys;  ARGV[1]  the claimer's token
  Returns how many were released.
]]
local released = 0
local mine = 'pending:' .. ARGV[1]
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == mine then
    redis.call('DEL', KEYS[i])
    released = released + 1
  end
end
return released
