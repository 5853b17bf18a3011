/**
 * TLS for the news ports: the certificate and key a server presents (NEWS_TLS_CERT,
 * NEWS_TLS_KEY), and what a client trusts (a CA file, else the system's CAs). The client always
 * verifies the server's certificate and name.
 */
import { readFileSync } from 'node:fs';

import { ConfigError } from '../platform/errors.js';

/** What a client needs to speak TLS to a news port; `ca` unset means the system's CAs. */
export interface ClientTls {
  ca?: string;
}

function readPem(variable: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError(variable, `${variable} names a file that cannot be read: ${reason}`);
  }
}

/** The server side, or undefined for plain TCP; a certificate without its key is refused. */
export function serverTlsOf(config: {
  tlsCert: string | undefined;
  tlsKey: string | undefined;
}): { cert: string; key: string } | undefined {
  const { tlsCert, tlsKey } = config;
  if (tlsCert === undefined && tlsKey === undefined) return undefined;
  if (tlsCert === undefined || tlsKey === undefined) {
    const missing = tlsCert === undefined ? 'NEWS_TLS_CERT' : 'NEWS_TLS_KEY';
    throw new ConfigError(
      missing,
      `${missing} is required with the other of NEWS_TLS_CERT and NEWS_TLS_KEY`,
    );
  }
  return { cert: readPem('NEWS_TLS_CERT', tlsCert), key: readPem('NEWS_TLS_KEY', tlsKey) };
}

/** A client's TLS from a CA file setting (the CA's variable names it in errors). */
export function clientTlsOf(variable: string, caPath: string | undefined): ClientTls {
  return caPath === undefined ? {} : { ca: readPem(variable, caPath) };
}

/** The `agora news` client's TLS: AGORA_NEWS_TLS_CA names the CA to trust (TLS on). */
export function newsClientTls(
  env: Readonly<Record<string, string | undefined>>,
): ClientTls | undefined {
  const ca = env.AGORA_NEWS_TLS_CA;
  return ca === undefined || ca === '' ? undefined : clientTlsOf('AGORA_NEWS_TLS_CA', ca);
}
