/**
 * Layering, enforced by lint (architecture.md §2, VS Code's code-layering idea). A file's layer
 * comes from its path; each layer lists the layers it may import from and the npm packages it may
 * use. `shared/identity`, `shared/resolver`, `shared/protocol` (and the other platform-free parts
 * of `shared/`) may use zod and nothing else; only `shared/device` may use RxDB; `server`,
 * `electron` and `renderer` depend on `shared`, never on each other; `electron/preload` sees only
 * the bridge contract in `shared/ipc`.
 */
import path from 'node:path';
import { builtinModules } from 'node:module';

const ROOT = path.resolve(import.meta.dirname, '..');
const BUILTINS = new Set(builtinModules);

/** Longest prefix first. `packages` lists allowed npm packages; `'*'` allows any not denied. */
export const LAYERS = [
  {
    name: 'shared/device',
    prefix: 'shared/device/',
    layers: ['shared', 'shared/device'],
    packages: ['zod', 'rxdb', 'rxjs', 'dexie'],
    node: false,
  },
  { name: 'shared', prefix: 'shared/', layers: ['shared'], packages: ['zod'], node: false },
  {
    name: 'server',
    prefix: 'server/',
    layers: ['shared', 'server'],
    packages: '*',
    deny: ['electron', 'react', 'react-dom', 'rxdb'],
    node: true,
  },
  {
    name: 'electron/preload',
    prefix: 'electron/preload/',
    layers: ['shared', 'electron/preload'],
    packages: ['electron', 'zod'],
    node: false,
  },
  {
    name: 'electron',
    prefix: 'electron/',
    layers: ['shared', 'electron'],
    packages: ['electron', 'zod'],
    node: true,
  },
  {
    name: 'renderer',
    prefix: 'renderer/',
    layers: ['shared', 'shared/device', 'renderer'],
    packages: '*',
    // RxDB only through shared/device, so the device's store has one owner.
    deny: ['electron', 'better-sqlite3', 'pg', 'kysely', 'fastify', 'rxdb'],
    node: false,
  },
];

/**
 * Module boundaries inside a layer (SPEC SS-6, SS-7): a file matching `from` must not import a file
 * matching `to`. In `server/db` the device log and the identity store meet only at
 * `identity-store-port.ts`.
 */
export const BOUNDARIES = [
  {
    from: /^server\/db\/device-/,
    to: /^server\/db\/sql-identity-store\./,
    why: 'the device log reaches the identity store only through identity-store-port.ts (SPEC SS-6)',
  },
  {
    from: /^server\/db\/sql-identity-store\./,
    to: /^server\/db\/device-/,
    why: 'the identity store knows the device log only as its observer (SPEC SS-7)',
  },
];

/** Build tool configuration (`vite.config.ts` and the like) runs in Node at build time, not in the layer. */
const TOOL_CONFIG = /(^|\/)[\w.-]+\.config\.[cm]?[jt]s$/;

function layerOf(relative) {
  if (TOOL_CONFIG.test(relative)) return null;
  return LAYERS.find((layer) => relative.startsWith(layer.prefix)) ?? null;
}

function packageName(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

function check(layer, specifier, filename) {
  if (specifier.startsWith('.') || specifier.startsWith('/')) {
    const target = path
      .relative(ROOT, path.resolve(path.dirname(filename), specifier))
      .split(path.sep)
      .join('/');
    const targetLayer = layerOf(target);
    if (targetLayer === null) {
      return `"${specifier}" leaves the layered source tree; ${layer.name} may import from ${layer.layers.join(', ')}`;
    }
    if (!layer.layers.includes(targetLayer.name)) {
      return `${layer.name} must not import from ${targetLayer.name}; it may import from ${layer.layers.join(', ')} (see ../shared/design/architecture.md §2)`;
    }
    const source = path.relative(ROOT, filename).split(path.sep).join('/');
    const crossed = BOUNDARIES.find((b) => b.from.test(source) && b.to.test(target));
    return crossed === undefined ? null : `${source} must not import ${target}: ${crossed.why}`;
  }
  const bare = specifier.startsWith('node:') ? specifier.slice(5) : specifier;
  if (specifier.startsWith('node:') || BUILTINS.has(packageName(bare))) {
    return layer.node
      ? null
      : `${layer.name} is platform-free and must not import the Node built-in "${specifier}"`;
  }
  const name = packageName(specifier);
  if (layer.packages === '*') {
    return (layer.deny ?? []).includes(name) ? `${layer.name} must not depend on "${name}"` : null;
  }
  return layer.packages.includes(name)
    ? null
    : `${layer.name} may only use the packages ${layer.packages.join(', ')}; "${name}" is not allowed here`;
}

export const layeringRule = {
  meta: {
    type: 'problem',
    docs: { description: 'Enforce the layer dependency rules of the architecture' },
    schema: [],
    messages: { badLayering: 'Bad layering: {{detail}}' },
  },
  create(context) {
    const filename = context.filename;
    const relative = path.relative(ROOT, filename).split(path.sep).join('/');
    const layer = layerOf(relative);
    if (layer === null) return {};
    const report = (node, specifier) => {
      if (typeof specifier !== 'string') return;
      const detail = check(layer, specifier, filename);
      if (detail !== null) context.report({ node, messageId: 'badLayering', data: { detail } });
    };
    return {
      ImportDeclaration: (node) => report(node, node.source.value),
      ExportNamedDeclaration: (node) => node.source && report(node, node.source.value),
      ExportAllDeclaration: (node) => report(node, node.source.value),
      ImportExpression: (node) => node.source.type === 'Literal' && report(node, node.source.value),
    };
  },
};

export default { rules: { layering: layeringRule } };
