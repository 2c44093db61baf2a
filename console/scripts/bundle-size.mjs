// First-load JavaScript of the console: the scripts index.html loads (entry + modulepreloads), gzip.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const dist = new URL('../dist/', import.meta.url).pathname;
const html = readFileSync(join(dist, 'index.html'), 'utf8');
const first = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1]);
const size = (p) => {
  const body = readFileSync(join(dist, p));
  return { raw: body.length, gzip: gzipSync(body, { level: 9 }).length };
};
let js = 0;
let css = 0;
for (const p of first) {
  const s = size(p);
  if (p.endsWith('.js')) js += s.gzip;
  else css += s.gzip;
  console.log(`  ${p}: ${(s.raw / 1024).toFixed(1)} KiB, gzip ${(s.gzip / 1024).toFixed(1)} KiB`);
}
const all = readdirSync(join(dist, 'assets')).filter((f) => f.endsWith('.js'));
const total = all.reduce((a, f) => a + size(`/assets/${f}`).gzip, 0);
console.log(`first-load JavaScript: ${(js / 1024).toFixed(1)} KiB gzip (goal < 500 KiB); first-load CSS ${(css / 1024).toFixed(1)} KiB gzip`);
console.log(`all JavaScript chunks (${all.length}, loaded on demand): ${(total / 1024).toFixed(1)} KiB gzip`);
if (js > 500 * 1024) process.exit(1);
