/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';

// The gateway serves dist/ at `/` (SPA fallback); in development Vite serves the app and
// passes API, health and WebSocket calls to a gateway running on 127.0.0.1:8000.
const gateway = 'http://127.0.0.1:8000';

export default defineConfig({
  plugins: [vue()],
  server: {
    host: '127.0.0.1',
    proxy: {
      '/api': gateway,
      '/readyz': gateway,
      '/healthz': gateway,
      '/ws': { target: gateway, ws: true },
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
  },
  test: {
    environment: 'happy-dom',
    include: ['tests/unit/**/*.test.ts'],
    restoreMocks: true,
  },
});
