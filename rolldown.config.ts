/**
 * Bundles the `agora` command, as tsc compiled it under dist/src, into dist/cli: a few chunks in
 * place of the 570 modules a service loads from dist/src and node_modules. Resolving, reading
 * and compiling each of those was most of a start-up (bench/platform/startup.ts): bundled, the
 * counter is ready in about two thirds of the CPU and 2 MB less memory (vote, election-api and
 * tasks 13 to 19 MB less). Each command and each service still loads only its own chunks (their
 * dynamic imports are kept).
 */
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';

import { defineConfig, type Plugin } from 'rolldown';

/**
 * Named like src/cli, so that the paths between the command's own modules hold in both layouts:
 * the supervisor's `./main.js`, the console's `../cli/main.js`.
 */
const outDir = 'dist/cli';

/**
 * Packages left to Node's loader, in node_modules as installed: each reads files that sit
 * beside its own modules, which a bundle would move away from them.
 */
const external = [
  // PGlite: its WebAssembly build and data files.
  /^@electric-sql\/pglite(\/|$)/,
  // gRPC and its health service: their .proto definitions.
  /^@grpc\//,
  /^grpc-health-check(\/|$)/,
  // The /docs page: swagger-ui's static files (loaded only when /docs is first asked for).
  /^@fastify\/swagger(-ui)?(\/|$)/,
  // Loaded by createRequire for LOG_FORMAT=pretty only (src/platform/logger.ts).
  /^pino-pretty(\/|$)/,
  // pg's optional native driver, not installed; pg asks for it only if told to.
  /^pg-native$/,
  // The load generator's histograms: their encoding finds zlib through eval('require(...)').
  /^hdr-histogram-js(\/|$)/,
];

/**
 * CommonJS code that reads `__dirname` or `__filename` (ioredis its package.json, pino its
 * transport worker) gets the folder and file it was bundled from, found from the chunk's own
 * URL at run time, so the bundle works wherever the checkout is.
 */
function commonJsPaths(): Plugin {
  const helper = '__agoraBundledPath';
  const outDirAbsolute = resolve(outDir);
  const declared = (name: string, code: string) =>
    new RegExp(`\\b(?:var|let|const|function)\\s+${name}\\b`).test(code);
  return {
    name: 'agora:commonjs-paths',
    transform(code, id) {
      if (!id.includes('/node_modules/')) return null;
      const lines: string[] = [];
      for (const [name, path] of [
        ['__dirname', dirname(id)],
        ['__filename', id],
      ] as const) {
        if (new RegExp(`\\b${name}\\b`).test(code) && !declared(name, code)) {
          lines.push(`var ${name} = ${helper}(${JSON.stringify(relative(outDirAbsolute, path))});`);
        }
      }
      return lines.length === 0 ? null : { code: `${lines.join('\n')}\n${code}`, map: null };
    },
    renderChunk(code) {
      if (!code.includes(`${helper}(`)) return null;
      return {
        code:
          `import { fileURLToPath as ${helper}Of } from 'node:url';\n` +
          `const ${helper} = (path) => ${helper}Of(new URL(path, import.meta.url));\n${code}`,
        map: null,
      };
    },
  };
}

/**
 * Bundled modules are bodies of arrow functions (`__commonJSMin(((exports, module) => {`), which
 * V8 compiles only when a module is first required, on every start: Node's compile cache
 * (src/cli/compile-cache.ts) holds the code compiled with the chunk, not what is compiled later.
 * Written as `(function (exports, module) {`, V8 takes them for functions about to be called
 * (its parenthesised-function heuristic) and compiles them with the chunk, so from the second
 * start on their code comes from the cache: the counter's largest entry grows from 36 to 455 kB
 * and it is ready in about 15% less CPU (src/counter/README.md).
 */
function eagerModuleBodies(): Plugin {
  const wrapper = /\b(__commonJSMin|__esmMin)\(\(\(([\w$, ]*)\) => \{/g;
  return {
    name: 'agora:eager-module-bodies',
    renderChunk(code) {
      const eager = code.replace(wrapper, '$1((function ($2) {');
      return eager === code ? null : { code: eager, map: null };
    },
  };
}

/** The election's .proto beside the chunks, where src/election/grpc-proto.ts looks first. */
function electionProto(): Plugin {
  return {
    name: 'agora:election-proto',
    generateBundle() {
      this.emitFile({
        type: 'asset',
        fileName: 'election.proto',
        source: readFileSync('src/election/election.proto'),
      });
    },
  };
}

export default defineConfig({
  input: { main: 'dist/src/cli/main.js' },
  platform: 'node',
  external,
  plugins: [commonJsPaths(), eagerModuleBodies(), electionProto()],
  // Warnings are for the build's reader; an unresolved import stays external (pg-native).
  logLevel: 'warn',
  output: {
    dir: outDir,
    format: 'esm',
    cleanDir: true,
    // V8 keeps a chunk's source for as long as the process runs, one byte per character only if
    // none is above U+00FF: the Fastify chunk (find-my-way's box-drawing tree printer, fast-uri's
    // U+FFFD) held 2.5 MB of the counter's heap for 1.2 MB of code. Escaped, and without the
    // doc comments (the reader has them in src/ and node_modules), every chunk is Latin-1.
    // Licence comments stay, and the `// node_modules/...` line before each bundled module.
    charset: 'ascii',
    comments: { legal: true, annotation: false, jsdoc: false },
  },
});
