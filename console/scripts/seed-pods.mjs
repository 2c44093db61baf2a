// Seeds N Pending pods in a project through the Kubernetes API (bearer TOKEN), for the list benchmark.
// Usage: TOKEN=... node scripts/seed-pods.mjs https://127.0.0.1:PORT PROJECT 10000 [concurrency]
process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
const [url, ns, n, conc] = [process.argv[2], process.argv[3], Number(process.argv[4]), Number(process.argv[5] ?? 32)];
const tok = process.env.TOKEN;
let next = 0, ok = 0, fail = 0;
const t0 = Date.now();
async function worker() {
  while (next < n) {
    const i = next++;
    const body = { apiVersion: 'v1', kind: 'Pod', metadata: { name: `bench-${String(i).padStart(5, '0')}`, labels: { app: `bench-${i % 50}` } }, spec: { containers: [{ name: 'main', image: 'nginx:1.27' }] } };
    const r = await fetch(`${url}/api/v1/namespaces/${ns}/pods`, { method: 'POST', headers: { authorization: `Bearer ${tok}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    await r.arrayBuffer();
    if (r.status === 201 || r.status === 409) ok++; else { fail++; if (fail < 3) console.error(r.status); }
  }
}
await Promise.all(Array.from({ length: conc }, worker));
console.log(`created ${ok} pods (${fail} failed) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
