// The HTTP client of the console: bearer tokens, refresh before expiry and once on 401, errors as words.

import { ApiError, toApiError } from './errors';
import { browserStore, sessionFrom, type Session, type SessionStore, type TokenResponse } from './session';

/** The OAuth client the console logs in as (KubeSphere's console uses the same id and secret). */
export const CLIENT_ID = 'kubesphere';
export const CLIENT_SECRET = 'kubesphere';

/** Refresh this long before the access token expires. */
const REFRESH_MARGIN_MS = 60_000;

export type SessionEndReason = 'expired' | 'logout';

export interface ClientOptions {
  fetch?: typeof fetch;
  store?: SessionStore;
  now?: () => number;
  baseUrl?: string;
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined | null>;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
  /** Send the body as is (YAML text, form data) instead of JSON. */
  raw?: boolean;
}

type Listener = (session: Session | null, reason?: SessionEndReason) => void;

export class ApiClient {
  private readonly fetchImpl: typeof fetch;
  private readonly store: SessionStore;
  private readonly now: () => number;
  private readonly baseUrl: string;
  private session: Session | null;
  private refreshing: Promise<Session> | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private listeners = new Set<Listener>();

  constructor(opts: ClientOptions = {}) {
    this.fetchImpl = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.store = opts.store ?? browserStore;
    this.now = opts.now ?? (() => Date.now());
    this.baseUrl = opts.baseUrl ?? '';
    this.session = this.store.load();
    if (this.session) {
      if (this.session.expiresAt <= this.now() && !this.session.refreshToken) {
        this.session = null;
        this.store.clear();
      } else {
        this.schedule();
      }
    }
  }

  get current(): Session | null {
    return this.session;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private set(session: Session | null, reason?: SessionEndReason) {
    this.session = session;
    if (session) this.store.save(session);
    else this.store.clear();
    this.schedule();
    for (const l of this.listeners) l(session, reason);
  }

  private schedule() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const s = this.session;
    if (!s?.refreshToken) return;
    const lifetime = s.expiresAt - this.now();
    // Short-lived tokens (tests, strict installs) are refreshed at half their life instead.
    const delay = Math.max(0, lifetime > 2 * REFRESH_MARGIN_MS ? lifetime - REFRESH_MARGIN_MS : lifetime / 2);
    this.timer = setTimeout(() => {
      this.refresh().catch(() => this.set(null, 'expired'));
    }, delay);
  }

  private async token(form: Record<string, string>, fallbackUser: string): Promise<Session> {
    const body = new URLSearchParams({ ...form, client_id: CLIENT_ID, client_secret: CLIENT_SECRET });
    const res = await this.fetchImpl(`${this.baseUrl}/oauth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body: body.toString(),
    });
    const parsed = await parseBody(res);
    if (!res.ok) throw toApiError(res.status, parsed);
    const tr = parsed as TokenResponse;
    if (!tr || typeof tr.access_token !== 'string') throw toApiError(502, { message: 'The server sent no access token' });
    return sessionFrom(tr, this.now(), fallbackUser);
  }

  /** `grant_type=password`. */
  async login(username: string, password: string): Promise<Session> {
    const session = await this.token({ grant_type: 'password', username, password }, username);
    this.set(session);
    return session;
  }

  /** `grant_type=refresh_token`; concurrent callers share one request. */
  refresh(): Promise<Session> {
    const s = this.session;
    if (!s?.refreshToken) return Promise.reject(toApiError(401, {}));
    if (!this.refreshing) {
      const keepUninitialized = s.mustChangePassword;
      this.refreshing = this.token({ grant_type: 'refresh_token', refresh_token: s.refreshToken }, s.username)
        .then((next) => {
          const merged = { ...next, refreshToken: next.refreshToken ?? s.refreshToken, mustChangePassword: next.mustChangePassword || keepUninitialized };
          this.set(merged);
          return merged;
        })
        .finally(() => {
          this.refreshing = null;
        });
    }
    return this.refreshing;
  }

  /** Revokes the token on the server (best effort) and forgets it here. */
  async logout(): Promise<void> {
    const s = this.session;
    this.set(null, 'logout');
    if (!s) return;
    try {
      await this.fetchImpl(`${this.baseUrl}/oauth/logout`, { headers: { Authorization: `Bearer ${s.accessToken}` } });
    } catch {
      // The local session is gone either way; the token expires on its own.
    }
  }

  /** The user object says the password must be changed though the token did not. */
  markPasswordRequired() {
    if (this.session) this.set({ ...this.session, mustChangePassword: true });
  }

  /** The password was changed: the uninitialized flag no longer applies. */
  markPasswordChanged() {
    if (this.session) this.set({ ...this.session, mustChangePassword: false });
  }

  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    if (this.session && this.session.expiresAt <= this.now() && this.session.refreshToken) {
      await this.refresh().catch(() => undefined);
    }
    let res = await this.send(method, path, opts);
    if (res.status === 401 && this.session?.refreshToken) {
      try {
        await this.refresh();
      } catch {
        this.set(null, 'expired');
        throw toApiError(401, await parseBody(res));
      }
      res = await this.send(method, path, opts);
    }
    const body = await parseBody(res);
    if (res.status === 401 && this.session) this.set(null, 'expired');
    if (!res.ok) throw toApiError(res.status, body);
    return body as T;
  }

  private send(method: string, path: string, opts: RequestOptions): Promise<Response> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (this.session) headers.Authorization = `Bearer ${this.session.accessToken}`;
    let body: BodyInit | undefined;
    if (opts.body !== undefined) {
      headers['Content-Type'] = opts.contentType ?? 'application/json';
      body = opts.raw ? (opts.body as BodyInit) : JSON.stringify(opts.body);
    }
    return this.fetchImpl(this.baseUrl + withQuery(path, opts.query), { method, headers, body, signal: opts.signal });
  }

  get<T>(path: string, query?: RequestOptions['query'], signal?: AbortSignal) {
    return this.request<T>('GET', path, { query, signal });
  }
  post<T>(path: string, body: unknown, query?: RequestOptions['query']) {
    return this.request<T>('POST', path, { body, query });
  }
  put<T>(path: string, body: unknown, query?: RequestOptions['query']) {
    return this.request<T>('PUT', path, { body, query });
  }
  patch<T>(path: string, body: unknown, type: 'merge' | 'json' | 'strategic' = 'merge', query?: RequestOptions['query']) {
    const contentType = { merge: 'application/merge-patch+json', json: 'application/json-patch+json', strategic: 'application/strategic-merge-patch+json' }[type];
    return this.request<T>('PATCH', path, { body, contentType, query });
  }
  delete<T>(path: string, query?: RequestOptions['query']) {
    return this.request<T>('DELETE', path, { query });
  }
}

export function withQuery(path: string, query?: RequestOptions['query']): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === '') continue;
    params.append(k, String(v));
  }
  const qs = params.toString();
  return qs ? `${path}${path.includes('?') ? '&' : '?'}${qs}` : path;
}

async function parseBody(res: Response): Promise<unknown> {
  if (res.status === 204 || res.status === 304) return undefined;
  const text = await res.text();
  if (!text) return undefined;
  const type = res.headers.get('content-type') ?? '';
  if (type.includes('json') || /^\s*[[{]/.test(text)) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

export { ApiError };
