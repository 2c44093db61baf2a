// Login, and the password change forced at first login.

import { Alert, Button, Center, Paper, PasswordInput, Stack, TextInput, Title } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { Navigate, useLocation, useNavigate } from 'react-router-dom';
import { messageOf } from '../api/errors';
import { ANNOTATIONS } from '../api/types';
import { useApp } from '../app/context';
import { clearPermissionCache } from '../app/hooks';
import { useI18n } from '../i18n';
import { passwordProblem } from './forms';

export function LoginPage() {
  const { api, platform, session, ended } = useApp();
  const { t } = useI18n();
  const navigate = useNavigate();
  const location = useLocation();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const from = (location.state as { from?: string } | null)?.from ?? '/overview';

  if (session && !busy) return <Navigate to={session.mustChangePassword ? '/password' : from} replace />;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      clearPermissionCache();
      const s = await api.login(username.trim(), password);
      let must = s.mustChangePassword;
      if (!must) {
        // Servers that do not put the claim in the token still mark the user object.
        const user = await platform.user(s.username).catch(() => undefined);
        must = user?.metadata.annotations?.[ANNOTATIONS.uninitialized] === 'true';
        if (must) api.markPasswordRequired();
      }
      navigate(must ? '/password' : from, { replace: true });
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Center mih="100vh" p="md">
      <Paper withBorder shadow="sm" p="xl" w={380}>
        <form onSubmit={submit} aria-label={t('login.title')}>
          <Stack>
            <Title order={2}>{t('login.title')}</Title>
            {ended === 'expired' ? (
              <Alert color="yellow" role="status">
                {t('login.expired')}
              </Alert>
            ) : null}
            {error ? (
              <Alert color="red" role="alert" data-testid="login-error">
                {error}
              </Alert>
            ) : null}
            <TextInput label={t('login.username')} value={username} onChange={(e) => setUsername(e.currentTarget.value)} required autoComplete="username" autoFocus />
            <PasswordInput label={t('login.password')} value={password} onChange={(e) => setPassword(e.currentTarget.value)} required autoComplete="current-password" />
            <Button type="submit" loading={busy}>
              {t('login.submit')}
            </Button>
          </Stack>
        </form>
      </Paper>
    </Center>
  );
}

/** Changing one's own password; forced (no way around it) after the first login. */
export function PasswordPage({ forced }: { forced: boolean }) {
  const { api, platform, session } = useApp();
  const { t } = useI18n();
  const navigate = useNavigate();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [confirm, setConfirm] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  if (!session) return <Navigate to="/login" replace />;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const problem = passwordProblem(next, confirm, current);
    if (problem) {
      setError(t(problem));
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      await platform.changePassword(session.username, next, current);
      // The server revokes the user's tokens on a password change; log in again with the new one.
      const s = await api.login(session.username, next).catch(() => null);
      if (s) api.markPasswordChanged();
      navigate(s ? '/overview' : '/login', { replace: true });
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Center mih={forced ? '100vh' : undefined} p="md">
      <Paper withBorder shadow="sm" p="xl" w={420}>
        <form onSubmit={submit} aria-label={t('password.title')}>
          <Stack>
            <Title order={2}>{t('password.title')}</Title>
            {forced ? <Alert color="blue">{t('password.forced')}</Alert> : null}
            {error ? (
              <Alert color="red" role="alert" data-testid="password-error">
                {error}
              </Alert>
            ) : null}
            <PasswordInput label={t('password.current')} value={current} onChange={(e) => setCurrent(e.currentTarget.value)} required autoComplete="current-password" />
            <PasswordInput label={t('password.new')} value={next} onChange={(e) => setNext(e.currentTarget.value)} required autoComplete="new-password" description={t('password.rules')} />
            <PasswordInput label={t('password.confirm')} value={confirm} onChange={(e) => setConfirm(e.currentTarget.value)} required autoComplete="new-password" />
            <Button type="submit" loading={busy}>
              {t('password.submit')}
            </Button>
            {forced ? (
              <Button variant="subtle" onClick={() => void api.logout()}>
                {t('nav.logout')}
              </Button>
            ) : null}
          </Stack>
        </form>
      </Paper>
    </Center>
  );
}
