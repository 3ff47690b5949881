/**
 * electron-vite build of the desktop app into out/: main (ESM) and preload (CommonJS, because a
 * sandboxed preload cannot load ES modules) with their npm dependencies (zod) bundled in, so the
 * packaged app ships no node_modules and a sandboxed preload requires nothing but `electron`;
 * and the renderer from renderer/ with relative asset paths, served by the app:// handler.
 */
import path from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'electron-vite';

const root = import.meta.dirname;

export default defineConfig({
  main: {
    build: {
      outDir: path.resolve(root, 'out/main'),
      externalizeDeps: false,
      rolldownOptions: { input: { index: path.resolve(root, 'electron/main/index.ts') } },
    },
  },
  preload: {
    build: {
      outDir: path.resolve(root, 'out/preload'),
      externalizeDeps: false,
      rolldownOptions: {
        input: { index: path.resolve(root, 'electron/preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: path.resolve(root, 'renderer'),
    base: './',
    plugins: [react()],
    build: {
      outDir: path.resolve(root, 'out/renderer'),
      emptyOutDir: true,
      // electron-vite leaves bundles unminified by default; the renderer is shipped minified, as on the web.
      minify: true,
      rolldownOptions: { input: { index: path.resolve(root, 'renderer/index.html') } },
    },
  },
});
