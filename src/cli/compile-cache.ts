/**
 * Turns on Node's compile cache (V8 code for every module, kept under the temporary directory
 * or NODE_COMPILE_CACHE), so a service's second start compiles none of its dependencies again:
 * most of a start-up is loading Fastify, ioredis, pg and the like. Imported first by main.ts;
 * the modules loaded after it, which are every service's code, are cached.
 */
import module from 'node:module';

// Node 22.1 added it; on an older Node the command still runs, only uncached.
if ('enableCompileCache' in module) module.enableCompileCache();

/**
 * Writes the cache now, once the services are ready: Node writes it at a clean exit only, and a
 * service stopped by SIGKILL or a crash (what the chaos tests do, and an orchestrator after its
 * grace period) would otherwise start without it every time.
 */
export function saveCompiledCode(): void {
  // Node 22.10 added it.
  if ('flushCompileCache' in module) module.flushCompileCache();
}
