/** News addresses: "host:port" as clients, the agent and the settings write them. */
import { NewsError } from './protocol.js';

/**
 * "host:port", "tcp://host:port", "tls://host:port" or "http://host:port" into its parts
 * (AGORA_NEWS_AGENT_URL may hold any of them; tls:// makes the client speak TLS).
 */
export function parseAddress(address: string): { host: string; port: number } {
  const bare = address.replace(/^(tcp|tls|http):\/\//, '').replace(/\/$/, '');
  const match = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(bare);
  const port = Number(match?.[2]);
  if (match?.[1] === undefined || port < 1 || port > 65_535) {
    throw new NewsError('invalid_request', `"${address}" is not a host:port address`);
  }
  return { host: match[1].replace(/^\[|\]$/g, ''), port };
}
