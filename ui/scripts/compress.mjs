// Writes a .br and a .gz beside every compressible file of dist/, so the
// server sends them as they are instead of compressing on each request.
// zlib's output depends only on the input and the settings (the gzip header
// carries no time or name here), so the build stays reproducible.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const COMPRESSIBLE = /\.(html|js|css|svg|json|txt|map)$/;
const dist = new URL('../dist/', import.meta.url).pathname;

function filesUnder(directory) {
  return readdirSync(directory)
    .sort()
    .flatMap((name) => {
      const path = join(directory, name);
      return statSync(path).isDirectory() ? filesUnder(path) : [path];
    });
}

let written = 0;
for (const path of filesUnder(dist)) {
  if (!COMPRESSIBLE.test(path)) continue;
  const raw = readFileSync(path);
  const brotli = brotliCompressSync(raw, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: 11,
      [constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
    },
  });
  const gzip = gzipSync(raw, { level: 9 });
  // A compressed copy that saves nothing is left out; the server then sends the file itself.
  if (brotli.length < raw.length) writeFileSync(`${path}.br`, brotli);
  if (gzip.length < raw.length) writeFileSync(`${path}.gz`, gzip);
  written += 1;
}
console.log(`compressed ${written} files in dist/`);
