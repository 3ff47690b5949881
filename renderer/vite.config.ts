/**
 * The renderer build: one bundle for the browser (served by the central server under /app/ as an
 * installable web app) and for Electron (loaded from the app:// scheme). Relative asset paths and a
 * hash router let the same files work under any path and scheme.
 */
import path from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const root = path.resolve(import.meta.dirname);

export default defineConfig({
  root,
  base: './',
  plugins: [react()],
  build: {
    outDir: path.resolve(root, '..', 'dist', 'app'),
    emptyOutDir: true,
    sourcemap: true,
    chunkSizeWarningLimit: 1500,
  },
});
