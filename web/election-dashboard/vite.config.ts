// Builds the election dashboard into dist/web/election-dashboard, where election-api serves it.
// In development (`npx vite --config web/election-dashboard/vite.config.ts`) /api goes to an election-api on port 3000.
import { fileURLToPath } from 'node:url';

import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const webDir = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: webDir,
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('../../dist/web/election-dashboard', import.meta.url)),
    emptyOutDir: true,
    chunkSizeWarningLimit: 1_000,
  },
  server: { proxy: { '/api': 'http://127.0.0.1:3000' } },
});
