/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The console is served by `sphere` itself; `npm run dev` proxies the APIs to a local `sphere up`.
const target = process.env.SPHERE_URL ?? 'https://127.0.0.1:6443';

export default defineConfig({
  plugins: [react()],
  build: {
    target: 'es2022',
    // Inline assets would need `data:` or blob URLs for scripts; keep every file separate so
    // the strict Content-Security-Policy holds.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    rollupOptions: {
      output: {
        manualChunks(id) {
          if (id.includes('node_modules/@codemirror') || id.includes('node_modules/@lezer')) return 'codemirror';
          if (id.includes('node_modules/yaml')) return 'yaml';
          if (id.includes('node_modules/@mantine') || id.includes('node_modules/@floating-ui')) return 'mantine';
          if (id.includes('node_modules/react') || id.includes('node_modules/scheduler')) return 'react';
          return undefined;
        },
      },
    },
  },
  server: {
    proxy: Object.fromEntries(
      ['/api', '/apis', '/kapis', '/oauth'].map((p) => [p, { target, secure: false, changeOrigin: true }]),
    ),
  },
  test: {
    environment: 'jsdom',
    globals: true,
    setupFiles: ['src/test-setup.ts'],
    include: ['src/**/*.test.{ts,tsx}'],
  },
});
