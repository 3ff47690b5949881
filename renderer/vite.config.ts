/**
 * The renderer build: one bundle for the browser (served by the central server under /app/ as an
 * installable web app) and for Electron (loaded from the app:// scheme). Relative asset paths and a
 * hash router let the same files work under any path and scheme.
 *
 * The `preload-device-code` plugin has index.html fetch the device engine's chunk beside the
 * app's own (UP-9): the app evaluates it only after its first render is painted, but its bytes are
 * there by then.
 *
 * The `opening-first` plugin moves the app's stylesheet from the head to the end of the body
 * (UP-10): a stylesheet in the head holds back every paint until it has loaded, the opening state's
 * too, although that state is styled inline; at the end of the body it holds back only the app's
 * script, which waits for it before running (a module script waits for the stylesheets the parser
 * has met), so the app never renders unstyled.
 *
 * The `service-worker` plugin writes `sw.js` from `src/sw/sw-template.js` after the bundle is
 * written: the list of built files to precache, and a cache name derived from a hash of that list.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

const root = path.resolve(import.meta.dirname);
const outDir = path.resolve(root, '..', 'dist', 'app');
const publicDir = path.resolve(root, 'public');
const { version } = JSON.parse(readFileSync(path.resolve(root, '..', 'package.json'), 'utf8')) as {
  version: string;
};

function filesUnder(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory()
      ? filesUnder(full, base)
      : [path.relative(base, full).split(path.sep).join('/')];
  });
}

function serviceWorker(): Plugin {
  return {
    name: 'service-worker',
    apply: 'build',
    writeBundle(_options, bundle) {
      const files = [...new Set([...Object.keys(bundle), ...filesUnder(publicDir)])]
        .filter((file) => !file.endsWith('.map') && file !== 'sw.js')
        .sort();
      const hash = createHash('sha256').update(files.join('\n')).digest('hex').slice(0, 16);
      const template = readFileSync(path.resolve(root, 'src', 'sw', 'sw-template.js'), 'utf8');
      const source = template
        .replace('= __PRECACHE__;', `= ${JSON.stringify(files.map((file) => `./${file}`))};`)
        .replace('= __CACHE_NAME__;', `= ${JSON.stringify(`identity-sync-shell-${hash}`)};`);
      writeFileSync(path.join(outDir, 'sw.js'), source);
    },
  };
}

/** The module that is the device engine's chunk (`import()`ed by `src/app/opening.ts`). */
const DEVICE_CODE = path.resolve(root, 'src', 'app', 'device-code.ts');

function preloadDeviceCode(): Plugin {
  return {
    name: 'preload-device-code',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler(_html, context) {
        const chunk = Object.values(context.bundle ?? {}).find(
          (output) => output.type === 'chunk' && output.facadeModuleId === DEVICE_CODE,
        );
        if (chunk?.type !== 'chunk') throw new Error('no chunk for src/app/device-code.ts');
        const entry = context.chunk?.fileName;
        return [chunk.fileName, ...chunk.imports.filter((file) => file !== entry)].map((file) => ({
          tag: 'link',
          attrs: { rel: 'modulepreload', crossorigin: true, href: `./${file}` },
          injectTo: 'head',
        }));
      },
    },
  };
}

const STYLESHEET_LINK = /\s*<link rel="stylesheet"[^>]*>/g;

function openingFirst(): Plugin {
  return {
    name: 'opening-first',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler(html) {
        const links = html.match(STYLESHEET_LINK) ?? [];
        if (links.length === 0) throw new Error('index.html has no stylesheet to move');
        const body = html.replace(STYLESHEET_LINK, '');
        return body.replace('</body>', `${links.map((link) => `  ${link.trim()}\n`).join('')}  </body>`);
      },
    },
  };
}

export default defineConfig({
  root,
  base: './',
  publicDir,
  plugins: [react(), preloadDeviceCode(), openingFirst(), serviceWorker()],
  define: { 'import.meta.env.VITE_APP_VERSION': JSON.stringify(version) },
  build: {
    outDir,
    emptyOutDir: true,
    sourcemap: true,
    chunkSizeWarningLimit: 1500,
  },
});
