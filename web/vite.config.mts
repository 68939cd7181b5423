import { defineConfig } from 'vite';

// The web wallet: Preact through Vite's own JSX transform (no plugin needed), built into the
// folder the API serves. Hashed file names let the API cache assets forever; index.html is not cached.
export default defineConfig({
  root: import.meta.dirname,
  // Vite keeps its cache and its lock against a second build of the same project there: a build
  // given its own folder (the tests', scripts/lib/web-build.ts) neither waits for nor trips over
  // the one `npm run dev` keeps running. Unset: Vite's default, node_modules/.vite.
  cacheDir: process.env.SAGAPAY_VITE_CACHE_DIR || undefined,
  base: '/',
  publicDir: 'public',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    target: 'es2022',
    sourcemap: true,
    assetsDir: 'assets',
    // One small app: the module-preload helper would add code for chunks that do not exist.
    modulePreload: false,
  },
});
