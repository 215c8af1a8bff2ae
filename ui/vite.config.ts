// Builds the dashboard into ui/dist, which the steward binary embeds.
// The output must be byte-for-byte reproducible: CI rebuilds it from the
// lockfile and fails when it differs from what is committed.
import { defineConfig } from 'vite';

export default defineConfig({
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // The polyfill only matters for browsers without modulepreload support.
    modulePreload: { polyfill: false },
    sourcemap: false,
    // Everything is a file of its own: data: URLs would need a looser CSP.
    assetsInlineLimit: 0,
    reportCompressedSize: false,
  },
  server: {
    // `npm run dev` against a `steward serve` on the default port.
    proxy: { '/api': 'http://127.0.0.1:8420' },
  },
});
