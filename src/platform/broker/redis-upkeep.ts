/**
 * Stream upkeep for the Redis driver, `trimAcked` and `forgetIdleConsumers`: each one script,
 * so what it reads of the groups and what it deletes see the same stream, with no append,
 * read or ack in between.
 */
import type { Redis } from 'ioredis';

/**
 * KEYS[1]: the stream. For each group, the first entry it may still need is its oldest pending
 * one, or else the one after what it last read; XTRIM MINID deletes everything before the
 * lowest of those. Ids are compared as numbers (ms and seq both fit a Lua double exactly).
 */
const trimScript = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local groups = redis.call('XINFO', 'GROUPS', KEYS[1])
if #groups == 0 then return 0 end
local function parse(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local floorMs, floorSeq
for _, group in ipairs(groups) do
  local info = {}
  for i = 1, #group, 2 do info[group[i]] = group[i + 1] end
  local ms, seq
  if info['pending'] > 0 then
    ms, seq = parse(redis.call('XPENDING', KEYS[1], info['name'])[2])
  else
    ms, seq = parse(info['last-delivered-id'])
    seq = seq + 1
  end
  if floorMs == nil or ms < floorMs or (ms == floorMs and seq < floorSeq) then
    floorMs, floorSeq = ms, seq
  end
end
return redis.call('XTRIM', KEYS[1], 'MINID', string.format('%d-%d', floorMs, floorSeq))
`;

/**
 * KEYS[1]: the stream; ARGV[1]: the group; ARGV[2]: ms. Deletes the group's consumers holding no
 * pending entry that have not tried to read for that long, and returns how many.
 */
const forgetScript = `
if redis.call('EXISTS', KEYS[1]) == 0 then
  return redis.error_reply('NOGROUP No such key or consumer group')
end
local forgotten = 0
for _, consumer in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local info = {}
  for i = 1, #consumer, 2 do info[consumer[i]] = consumer[i + 1] end
  if info['pending'] == 0 and info['idle'] >= tonumber(ARGV[2]) then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], info['name'])
    forgotten = forgotten + 1
  end
end
return forgotten
`;

interface UpkeepCommands {
  agoraTrimAcked(stream: string): Promise<number>;
  agoraForgetIdleConsumers(stream: string, group: string, idleMs: number): Promise<number>;
}

/** Registers the scripts on a connection. */
export function defineUpkeepCommands(redis: Redis): void {
  redis.defineCommand('agoraTrimAcked', { numberOfKeys: 1, lua: trimScript });
  redis.defineCommand('agoraForgetIdleConsumers', { numberOfKeys: 1, lua: forgetScript });
}

export function trimAcked(redis: Redis, stream: string): Promise<number> {
  return (redis as Redis & UpkeepCommands).agoraTrimAcked(stream);
}

export function forgetIdleConsumers(
  redis: Redis,
  stream: string,
  group: string,
  idleMs: number,
): Promise<number> {
  return (redis as Redis & UpkeepCommands).agoraForgetIdleConsumers(stream, group, idleMs);
}
