// The API client, the session and the user's permissions, shared with every page.

import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';
import { ApiClient, type SessionEndReason } from '../api/client';
import { Platform } from '../api/platform';
import type { Session } from '../api/session';

interface AppContext {
  api: ApiClient;
  platform: Platform;
  session: Session | null;
  /** Why the last session ended, shown on the login page. */
  ended: SessionEndReason | undefined;
}

const Ctx = createContext<AppContext | null>(null);

export function AppProvider({ api, children }: { api: ApiClient; children: ReactNode }) {
  const [session, setSession] = useState<Session | null>(api.current);
  const [ended, setEnded] = useState<SessionEndReason | undefined>();
  const [platform] = useState(() => new Platform(api));
  useEffect(
    () =>
      api.subscribe((s, reason) => {
        setSession(s);
        if (!s) setEnded(reason);
        else setEnded(undefined);
      }),
    [api],
  );
  return <Ctx.Provider value={{ api, platform, session, ended }}>{children}</Ctx.Provider>;
}

export function useApp(): AppContext {
  const c = useContext(Ctx);
  if (!c) throw new Error('useApp outside AppProvider');
  return c;
}
