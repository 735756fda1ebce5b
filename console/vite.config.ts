import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

/**
 * The console's build: served by the hub at /console (src/http/console.ts), every file but
 * index.html named by its content hash, nothing loaded from another host.
 */
export default defineConfig({
  root: import.meta.dirname,
  base: '/console/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    reportCompressedSize: false,
    chunkSizeWarningLimit: 2000,
  },
});
