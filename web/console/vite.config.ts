// Builds the console page into dist/web/console, where the console `agora up` starts serves it.
// In development (`npx vite --config web/console/vite.config.ts`) /api goes to a console on 7070.
import { fileURLToPath } from 'node:url';

import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const webDir = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: webDir,
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('../../dist/web/console', import.meta.url)),
    emptyOutDir: true,
  },
  server: { proxy: { '/api': 'http://127.0.0.1:7070' } },
});
