import { defineConfig } from 'vite';

// The web wallet: Preact through Vite's own JSX transform (no plugin needed), built into the
// folder the API serves. Hashed file names let the API cache assets forever; index.html is not cached.
export default defineConfig({
  root: import.meta.dirname,
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
