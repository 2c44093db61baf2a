// The OAuth session: tokens, their claims, and where they are kept between page loads.

export interface Session {
  accessToken: string;
  refreshToken?: string;
  /** When the access token stops working, in ms since the epoch. */
  expiresAt: number;
  username: string;
  /** The user must change the initial password before doing anything else. */
  mustChangePassword: boolean;
}

/** The OAuth2 token response of `POST /oauth/token`. */
export interface TokenResponse {
  access_token: string;
  token_type?: string;
  refresh_token?: string;
  expires_in?: number;
  id_token?: string;
}

export interface Claims {
  username?: string;
  sub?: string;
  exp?: number;
  extra?: Record<string, unknown>;
  token_type?: string;
}

function base64UrlDecode(s: string): string {
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(s.length / 4) * 4, '=');
  const bin = atob(b64);
  const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

/** The claims of a JWT, without checking its signature (the server does that); {} if it is not a JWT. */
export function decodeClaims(token: string): Claims {
  const part = token.split('.')[1];
  if (!part) return {};
  try {
    const v: unknown = JSON.parse(base64UrlDecode(part));
    return typeof v === 'object' && v !== null ? (v as Claims) : {};
  } catch {
    return {};
  }
}

/** KubeSphere's `extra` values are string lists (`{"uninitialized":["true"]}`); accept plain values too. */
export function truthyExtra(extra: Record<string, unknown> | undefined, key: string): boolean {
  const v = extra?.[key];
  const first = Array.isArray(v) ? v[0] : v;
  return first === true || first === 'true';
}

export function sessionFrom(token: TokenResponse, now: number, fallbackUser: string): Session {
  const claims = decodeClaims(token.access_token);
  const fromExp = typeof claims.exp === 'number' ? claims.exp * 1000 : undefined;
  const fromExpiresIn = typeof token.expires_in === 'number' && token.expires_in > 0 ? now + token.expires_in * 1000 : undefined;
  return {
    accessToken: token.access_token,
    refreshToken: token.refresh_token,
    // The server's expires_in is relative to our clock, so prefer it over exp when both exist.
    expiresAt: fromExpiresIn ?? fromExp ?? now + 2 * 3600 * 1000,
    username: claims.username ?? claims.sub ?? fallbackUser,
    mustChangePassword: truthyExtra(claims.extra, 'uninitialized'),
  };
}

export interface SessionStore {
  load(): Session | null;
  save(session: Session): void;
  clear(): void;
}

const KEY = 'ferrosphere.session';

/** Keeps the session in localStorage so a reload or a new tab stays logged in. */
export const browserStore: SessionStore = {
  load() {
    try {
      const raw = localStorage.getItem(KEY);
      if (!raw) return null;
      const s = JSON.parse(raw) as Partial<Session>;
      if (typeof s.accessToken !== 'string' || typeof s.expiresAt !== 'number' || typeof s.username !== 'string') return null;
      return { mustChangePassword: false, ...s } as Session;
    } catch {
      return null;
    }
  },
  save(session) {
    localStorage.setItem(KEY, JSON.stringify(session));
  },
  clear() {
    localStorage.removeItem(KEY);
  },
};

export function memoryStore(initial: Session | null = null): SessionStore {
  let current = initial;
  return {
    load: () => current,
    save: (s) => {
      current = s;
    },
    clear: () => {
      current = null;
    },
  };
}
