// Errors from the APIs, turned into sentences a person can act on.

/** A Kubernetes `Status` object, as /api, /apis and /kapis return on failure. */
export interface K8sStatus {
  kind?: string;
  apiVersion?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: {
    name?: string;
    kind?: string;
    group?: string;
    causes?: { reason?: string; message?: string; field?: string }[];
    retryAfterSeconds?: number;
  };
}

/** A failed call: HTTP status, the parsed body when there was one, and the words to show. */
export class ApiError extends Error {
  readonly status: number;
  readonly reason: string;
  readonly causes: { field?: string; message: string }[];
  readonly body: unknown;

  constructor(status: number, message: string, reason: string, causes: { field?: string; message: string }[], body: unknown) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.reason = reason;
    this.causes = causes;
    this.body = body;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const byStatus: Record<number, string> = {
  400: 'The request was not valid.',
  401: 'Your session has expired. Please log in again.',
  403: 'You do not have permission to do this.',
  404: 'It does not exist (it may have been deleted).',
  405: 'This action is not supported here.',
  409: 'It was changed by someone else, or it already exists. Reload and try again.',
  413: 'The request is too large.',
  422: 'Some fields are not valid.',
  429: 'Too many attempts. Wait a moment and try again.',
  500: 'The server failed to handle the request.',
  502: 'The server could not be reached.',
  503: 'The service is not available right now. Try again shortly.',
  504: 'The server took too long to answer.',
};

/** The words for a Kubernetes reason, when they say more than the server's own message. */
function reasonWords(reason: string | undefined, s: K8sStatus): string | undefined {
  const what = [s.details?.kind, s.details?.name].filter(Boolean).join(' ');
  switch (reason) {
    case 'AlreadyExists':
      return what ? `${what} already exists. Choose another name.` : 'It already exists. Choose another name.';
    case 'NotFound':
      return what ? `${what} was not found (it may have been deleted).` : undefined;
    case 'Conflict':
      return 'It was changed by someone else since you opened it. Reload and apply your change again.';
    case 'Forbidden':
      return undefined;
    case 'Expired':
    case 'Gone':
      return 'The list changed too much while you were reading it. Reload the page.';
    default:
      return undefined;
  }
}

/** Build an ApiError from a response status and its body (Status JSON, OAuth2 error, text or nothing). */
export function toApiError(status: number, body: unknown): ApiError {
  if (isRecord(body)) {
    if (typeof body.error === 'string') {
      // OAuth2 (RFC 6749 §5.2) errors from /oauth.
      const description = typeof body.error_description === 'string' ? body.error_description : '';
      const words = oauthWords(body.error, description, status);
      return new ApiError(status, words, body.error, [], body);
    }
    const s = body as K8sStatus;
    const causes = (s.details?.causes ?? [])
      .filter((c) => c.message)
      .map((c) => ({ field: c.field, message: c.message ?? '' }));
    const base = reasonWords(s.reason, s) ?? (s.message ? capitalize(s.message) : undefined) ?? byStatus[status] ?? `The request failed (HTTP ${status}).`;
    const forbidden = status === 403 ? `You do not have permission to do this. ${s.message ? `(${s.message})` : ''}`.trim() : undefined;
    return new ApiError(status, forbidden ?? base, s.reason ?? '', causes, body);
  }
  const text = typeof body === 'string' && body.trim() && body.length < 300 && !body.trimStart().startsWith('<') ? body.trim() : undefined;
  return new ApiError(status, byStatus[status] ?? text ?? `The request failed (HTTP ${status}).`, '', [], body);
}

function oauthWords(error: string, description: string, status: number): string {
  if (status === 429) return 'Too many failed logins: this account is locked for a while. Try again later or ask an administrator.';
  if (/disabled/i.test(description)) return 'This account is disabled. Ask an administrator to enable it.';
  if (/limit|locked|blocked/i.test(description)) return 'Too many failed logins: this account is locked for a while. Try again later or ask an administrator.';
  switch (error) {
    case 'invalid_grant':
      return 'Incorrect username or password.';
    case 'invalid_client':
    case 'unauthorized_client':
      return 'The console is not allowed to log in to this server.';
    case 'unsupported_grant_type':
      return 'This server does not support password login.';
    default:
      return description ? capitalize(description) : `Login failed (${error}).`;
  }
}

function capitalize(s: string): string {
  const t = s.trim();
  return t.charAt(0).toUpperCase() + t.slice(1) + (/[.!?]$/.test(t) ? '' : '.');
}

/** A message for anything thrown: an ApiError's words, a network failure, or the error's text. */
export function messageOf(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof TypeError) return 'Cannot reach the server. Check your connection and try again.';
  if (err instanceof Error) return err.message;
  return String(err);
}
