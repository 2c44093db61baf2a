// Data hooks: async loads with cancellation, role-template permissions and access reviews.

import { useCallback, useEffect, useRef, useState } from 'react';
import { accessReview, ALL_TEMPLATES, withPlatformGrants, type AccessCheck, type Scope } from '../api/permissions';
import { useApp } from './context';

export interface Async<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` when `deps` change; a newer run cancels the older one so a slow answer never wins. */
export function useAsync<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[]): Async<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({ data: undefined, error: undefined, loading: true });
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    const ctl = new AbortController();
    setState((s) => ({ ...s, loading: true, error: undefined }));
    loadRef.current(ctl.signal).then(
      (data) => {
        if (!ctl.signal.aborted) setState({ data, error: undefined, loading: false });
      },
      (error: unknown) => {
        if (!ctl.signal.aborted) setState((s) => ({ data: s.data, error, loading: false }));
      },
    );
    return () => ctl.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

const templateCache = new Map<string, Promise<string[]>>();

/** Forget cached permissions (after a login, or after changing someone's roles). */
export function clearPermissionCache() {
  templateCache.clear();
  reviewCache.clear();
}

/** The role templates the current user holds at a scope, as a set; undefined while loading. */
export function useTemplates(scope: Scope, where?: { workspace?: string; namespace?: string }): Set<string> | undefined {
  const { platform, session } = useApp();
  const user = session?.username ?? '';
  const ws = where?.workspace;
  const ns = where?.namespace;
  const [set, setSet] = useState<Set<string>>();
  useEffect(() => {
    let live = true;
    const fetchScope = (s: Scope, w?: { workspace?: string; namespace?: string }) => {
      const key = `${user}|${s}|${w?.workspace ?? ''}|${w?.namespace ?? ''}`;
      let p = templateCache.get(key);
      if (!p) {
        p = platform.roleTemplates(user, s, w).catch(() => [] as string[]);
        templateCache.set(key, p);
      }
      return p;
    };
    Promise.all([fetchScope(scope, { workspace: ws, namespace: ns }), scope === 'global' ? Promise.resolve([]) : fetchScope('global')]).then(([own, global]) => {
      if (live) setSet(scope === 'global' ? new Set(own) : withPlatformGrants(scope, own, new Set(global), ALL_TEMPLATES));
    });
    return () => {
      live = false;
    };
  }, [platform, user, scope, ws, ns]);
  return set;
}

const reviewCache = new Map<string, Promise<boolean>>();

/** Whether Kubernetes lets the caller do `check`; false until known, so buttons appear only when allowed. */
export function useCan(check: AccessCheck): boolean {
  const { api, session } = useApp();
  const key = `${session?.username}|${check.verb}|${check.group ?? ''}|${check.resource}|${check.subresource ?? ''}|${check.namespace ?? ''}|${check.name ?? ''}`;
  const [allowed, setAllowed] = useState(false);
  useEffect(() => {
    let live = true;
    let p = reviewCache.get(key);
    if (!p) {
      p = accessReview(api, check).catch(() => false);
      reviewCache.set(key, p);
    }
    p.then((a) => live && setAllowed(a));
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [api, key]);
  return allowed;
}

export interface Verbs {
  create: boolean;
  update: boolean;
  delete: boolean;
  scale: boolean;
}

/**
 * What the caller may do with a kind in a namespace, asked of Kubernetes itself. Menus follow the
 * role templates; buttons that change objects follow these reviews, since RBAC decides in the end.
 */
export function useVerbs(kind: { group: string; plural: string; scalable?: boolean }, namespace?: string): Verbs {
  const base = { group: kind.group, resource: kind.plural, namespace };
  const create = useCan({ ...base, verb: 'create' });
  const update = useCan({ ...base, verb: 'patch' });
  const del = useCan({ ...base, verb: 'delete' });
  const scale = useCan({ ...base, verb: 'patch', subresource: 'scale' });
  return { create, update, delete: del, scale: scale && kind.scalable === true };
}
