// A stand-in for `sphere up` that serves dist/ with sphere's headers and answers the platform
// APIs the console calls from generated in-memory data. For looking at the console and for the
// list benchmark while the real platform is not available; the e2e tests use a real sphere.
//
//   node scripts/mock-server.mjs [--port 5174] [--pods 10000]
import { createServer } from 'node:http';
import { readFileSync, existsSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const port = Number(args.port ?? 5174);
const podCount = Number(args.pods ?? 10000);
const dist = new URL('../dist/', import.meta.url).pathname;
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };

const t0 = Date.parse('2026-01-01T00:00:00Z');
const meta = (name, namespace, i, extra = {}) => ({ name, namespace, uid: `uid-${namespace ?? ''}-${name}`, resourceVersion: String(i + 1), creationTimestamp: new Date(t0 + i * 1000).toISOString(), ...extra });
const db = {
  pods: Array.from({ length: podCount }, (_, i) => ({ apiVersion: 'v1', kind: 'Pod', metadata: meta(`pod-${String(i).padStart(5, '0')}`, 'demo', i, { labels: { app: `app-${i % 100}` } }), spec: { nodeName: 'node-1' }, status: { phase: i % 17 === 0 ? 'Pending' : 'Running' } })),
  deployments: Array.from({ length: 100 }, (_, i) => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: meta(`app-${i}`, 'demo', i, { labels: { app: `app-${i}` } }), spec: { replicas: 100, selector: { matchLabels: { app: `app-${i}` } }, template: { spec: { containers: [{ name: 'main', image: 'nginx:1.27' }] } } }, status: { readyReplicas: i % 7 === 0 ? 90 : 100, updatedReplicas: 100 } })),
  workspaces: [{ apiVersion: 'tenant.kubesphere.io/v1beta1', kind: 'Workspace', metadata: meta('demo-ws', undefined, 0, { annotations: { 'kubesphere.io/alias-name': 'Demo' } }), spec: { manager: 'admin' } }],
  workspacetemplates: [{ apiVersion: 'tenant.kubesphere.io/v1beta1', kind: 'WorkspaceTemplate', metadata: meta('demo-ws', undefined, 0, { annotations: { 'kubesphere.io/alias-name': 'Demo' } }), spec: { template: { spec: { manager: 'admin' } }, placement: {} } }],
  namespaces: [{ apiVersion: 'v1', kind: 'Namespace', metadata: meta('demo', undefined, 0, { labels: { 'kubesphere.io/workspace': 'demo-ws' } }), status: { phase: 'Active' } }],
  users: [{ apiVersion: 'iam.kubesphere.io/v1beta1', kind: 'User', metadata: meta('admin', undefined, 0, { annotations: { 'iam.kubesphere.io/globalrole': 'platform-admin' } }), spec: { email: 'admin@example.com' }, status: { state: 'Active' } }],
};
const all = ['global-view-users', 'global-manage-users', 'global-view-workspaces', 'global-manage-workspaces', 'global-create-workspaces', 'global-view-roles', 'global-manage-roles', 'global-view-clusters', 'global-manage-clusters'];

function page(items, q) {
  let out = items;
  const name = q.get('name');
  if (name) out = out.filter((o) => o.metadata.name.includes(name));
  const sortBy = q.get('sortBy') ?? 'creationTimestamp';
  const asc = q.get('ascending') === 'true';
  const key = (o) => (sortBy === 'name' ? o.metadata.name : o.metadata.creationTimestamp);
  out = [...out].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0) * (asc ? 1 : -1));
  const limit = Number(q.get('limit') ?? -1);
  const p = Number(q.get('page') ?? 1);
  const items2 = limit > 0 ? out.slice((p - 1) * limit, p * limit) : out;
  return { items: items2, totalItems: out.length };
}

function send(res, status, body, headers = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  const p = url.pathname;
  if (p === '/oauth/token') {
    const payload = Buffer.from(JSON.stringify({ username: 'admin', exp: Math.floor(Date.now() / 1000) + 7200 })).toString('base64url');
    return send(res, 200, { access_token: `e30.${payload}.sig`, refresh_token: 'r', expires_in: 7200, token_type: 'Bearer' });
  }
  if (p.startsWith('/oauth/')) return send(res, 200, {});
  if (p.endsWith('/roletemplates')) {
    const scope = url.searchParams.get('scope');
    return send(res, 200, { items: (scope === 'global' ? all : []).map((n) => ({ metadata: { name: n } })), totalItems: 0 });
  }
  if (p === '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews') return send(res, 201, { status: { allowed: true } });
  const m = /^\/kapis\/(?:resources\.kubesphere\.io\/v1alpha3(?:\/namespaces\/[^/]+)?|tenant\.kubesphere\.io\/v1beta1(?:\/workspaces\/[^/]+)?|iam\.kubesphere\.io\/v1beta1)\/([a-z]+)$/.exec(p);
  if (m) return send(res, 200, page(db[m[1]] ?? [], url.searchParams));
  if (p.startsWith('/api') || p.startsWith('/kapis')) return send(res, 404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: `${p} not found` });
  let file = join(dist, p);
  if (!existsSync(file) || statSync(file).isDirectory()) file = join(dist, 'index.html');
  res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream', 'content-security-policy': CSP, 'cache-control': p.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache' });
  res.end(readFileSync(file));
}).listen(port, '127.0.0.1', () => console.log(`mock console server on http://127.0.0.1:${port} (${podCount} pods in project demo)`));
