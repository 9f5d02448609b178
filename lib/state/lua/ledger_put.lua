--[[
  ledger_put: message ledger entries written in one call (lib/state/redis.ts recordLedger).

  KEYS     the entries' keys ({ledger} slot)
  ARGV[1]  their lifetime (ms); ARGV[1 + i] the value of KEYS[i]
  Returns the number written
]]
for i = 1, #KEYS do
  redis.call('SET', KEYS[i], ARGV[i + 1], 'PX', ARGV[1])
end
return #KEYS
