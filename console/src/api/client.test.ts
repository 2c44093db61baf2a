import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiClient, withQuery } from './client';
import { ApiError, toApiError } from './errors';
import { memoryStore, type Session } from './session';

function jwt(claims: Record<string, unknown>): string {
  const b64 = (o: unknown) => btoa(JSON.stringify(o)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
  return `${b64({ alg: 'HS256' })}.${b64(claims)}.sig`;
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

type Call = { url: string; init: RequestInit };

function fakeFetch(handler: (url: string, init: RequestInit) => Response) {
  const calls: Call[] = [];
  const fn = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    calls.push({ url, init: init ?? {} });
    return handler(url, init ?? {});
  });
  return { fn: fn as unknown as typeof fetch, calls };
}

const NOW = 1_700_000_000_000;

describe('login', () => {
  it('posts a form-encoded password grant with the kubesphere client and keeps the session', async () => {
    const { fn, calls } = fakeFetch(() => json(200, { access_token: jwt({ username: 'admin', extra: { uninitialized: ['true'] } }), refresh_token: 'r1', expires_in: 7200, token_type: 'Bearer' }));
    const store = memoryStore();
    const api = new ApiClient({ fetch: fn, store, now: () => NOW });
    const s = await api.login('admin', 'P@ss w0rd&');
    expect(calls[0]?.url).toBe('/oauth/token');
    expect(calls[0]?.init.method).toBe('POST');
    expect((calls[0]?.init.headers as Record<string, string>)['Content-Type']).toBe('application/x-www-form-urlencoded');
    const form = new URLSearchParams(String(calls[0]?.init.body));
    expect(form.get('grant_type')).toBe('password');
    expect(form.get('username')).toBe('admin');
    expect(form.get('password')).toBe('P@ss w0rd&');
    expect(form.get('client_id')).toBe('kubesphere');
    expect(s.username).toBe('admin');
    expect(s.mustChangePassword).toBe(true);
    expect(s.expiresAt).toBe(NOW + 7_200_000);
    expect(store.load()?.refreshToken).toBe('r1');
  });

  it('turns OAuth errors into words', async () => {
    const bad = fakeFetch(() => json(400, { error: 'invalid_grant', error_description: 'incorrect password' }));
    await expect(new ApiClient({ fetch: bad.fn, store: memoryStore() }).login('a', 'b')).rejects.toThrow('Incorrect username or password.');
    const locked = fakeFetch(() => json(429, { error: 'invalid_grant', error_description: 'user auth limit exceeded' }));
    await expect(new ApiClient({ fetch: locked.fn, store: memoryStore() }).login('a', 'b')).rejects.toThrow(/locked/);
  });
});

describe('requests', () => {
  const session: Session = { accessToken: 'a1', refreshToken: 'r1', expiresAt: NOW + 3_600_000, username: 'alice', mustChangePassword: false };

  it('sends the bearer token and parses JSON', async () => {
    const { fn, calls } = fakeFetch(() => json(200, { items: [], totalItems: 0 }));
    const api = new ApiClient({ fetch: fn, store: memoryStore(session), now: () => NOW });
    await api.get('/kapis/x', { page: 1, limit: 10, name: '' });
    expect(calls[0]?.url).toBe('/kapis/x?page=1&limit=10');
    expect((calls[0]?.init.headers as Record<string, string>).Authorization).toBe('Bearer a1');
  });

  it('refreshes once on 401 and retries with the new token', async () => {
    let tokenCalls = 0;
    const { fn, calls } = fakeFetch((url, init) => {
      if (url === '/oauth/token') {
        tokenCalls++;
        return json(200, { access_token: 'a2', refresh_token: 'r2', expires_in: 7200 });
      }
      const auth = (init.headers as Record<string, string>).Authorization;
      return auth === 'Bearer a2' ? json(200, { ok: true }) : json(401, { kind: 'Status', code: 401, message: 'token expired' });
    });
    const store = memoryStore(session);
    const api = new ApiClient({ fetch: fn, store, now: () => NOW });
    await expect(Promise.all([api.get('/api/v1/a'), api.get('/api/v1/b')])).resolves.toEqual([{ ok: true }, { ok: true }]);
    expect(tokenCalls).toBe(1);
    expect(new URLSearchParams(String(calls.find((c) => c.url === '/oauth/token')?.init.body)).get('refresh_token')).toBe('r1');
    expect(store.load()?.accessToken).toBe('a2');
  });

  it('ends the session with "expired" when the refresh fails', async () => {
    const { fn } = fakeFetch((url) => (url === '/oauth/token' ? json(401, { error: 'invalid_grant' }) : json(401, { kind: 'Status', code: 401 })));
    const store = memoryStore(session);
    const api = new ApiClient({ fetch: fn, store, now: () => NOW });
    const ended = vi.fn();
    api.subscribe(ended);
    await expect(api.get('/api/v1/pods')).rejects.toBeInstanceOf(ApiError);
    expect(store.load()).toBeNull();
    expect(ended).toHaveBeenCalledWith(null, 'expired');
  });

  it('does not retry a 403', async () => {
    const { fn, calls } = fakeFetch(() => json(403, { kind: 'Status', code: 403, reason: 'Forbidden', message: 'deployments.apps is forbidden' }));
    const api = new ApiClient({ fetch: fn, store: memoryStore(session), now: () => NOW });
    await expect(api.post('/apis/apps/v1/namespaces/x/deployments', {})).rejects.toThrow(/permission/);
    expect(calls).toHaveLength(1);
  });
});

describe('refresh before expiry', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('refreshes a minute before the access token expires', async () => {
    let now = NOW;
    const { fn, calls } = fakeFetch(() => json(200, { access_token: 'a2', refresh_token: 'r2', expires_in: 600 }));
    const session: Session = { accessToken: 'a1', refreshToken: 'r1', expiresAt: NOW + 600_000, username: 'u', mustChangePassword: false };
    const api = new ApiClient({ fetch: fn, store: memoryStore(session), now: () => now });
    now += 530_000;
    await vi.advanceTimersByTimeAsync(530_000);
    expect(calls).toHaveLength(0);
    now += 20_000;
    await vi.advanceTimersByTimeAsync(20_000);
    expect(calls).toHaveLength(1);
    expect(api.current?.accessToken).toBe('a2');
  });
});

describe('errors', () => {
  it('explains Kubernetes Status reasons and keeps field causes', () => {
    const e = toApiError(409, { kind: 'Status', reason: 'AlreadyExists', code: 409, details: { name: 'web', kind: 'deployments' }, message: 'deployments.apps "web" already exists' });
    expect(e.message).toBe('deployments web already exists. Choose another name.');
    const v = toApiError(422, { kind: 'Status', reason: 'Invalid', code: 422, message: 'Deployment "x" is invalid', details: { causes: [{ field: 'spec.replicas', message: 'must be greater than or equal to 0' }] } });
    expect(v.causes).toEqual([{ field: 'spec.replicas', message: 'must be greater than or equal to 0' }]);
    expect(toApiError(502, '<html>bad gateway</html>').message).toBe('The server could not be reached.');
    expect(toApiError(404, undefined).message).toMatch(/does not exist/);
  });

  it('builds query strings without empty values', () => {
    expect(withQuery('/a', { x: 1, y: undefined, z: '', w: false })).toBe('/a?x=1&w=false');
    expect(withQuery('/a?b=1', { c: 'd e' })).toBe('/a?b=1&c=d+e');
  });
});
