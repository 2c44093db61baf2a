import { MantineProvider } from '@mantine/core';
import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { MemoryRouter, Route, Routes } from 'react-router-dom';
import { describe, expect, it, vi } from 'vitest';
import { ApiClient } from '../api/client';
import { memoryStore } from '../api/session';
import { AppProvider } from '../app/context';
import { I18nProvider } from '../i18n';
import { LoginPage, PasswordPage } from './Login';

function jwt(claims: Record<string, unknown>): string {
  const b64 = (o: unknown) => btoa(JSON.stringify(o)).replace(/=+$/, '');
  return `${b64({ alg: 'HS256' })}.${b64(claims)}.sig`;
}
const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

function app(fetch: typeof globalThis.fetch, lang: 'en' | 'zh' = 'en') {
  const api = new ApiClient({ fetch, store: memoryStore() });
  render(
    <MantineProvider>
      <I18nProvider lang={lang}>
        <AppProvider api={api}>
          <MemoryRouter initialEntries={['/login']} future={{ v7_startTransition: true, v7_relativeSplatPath: true }}>
            <Routes>
              <Route path="/login" element={<LoginPage />} />
              <Route path="/password" element={<PasswordPage forced />} />
              <Route path="/overview" element={<p>overview page</p>} />
            </Routes>
          </MemoryRouter>
        </AppProvider>
      </I18nProvider>
    </MantineProvider>,
  );
  return api;
}

function fill(label: RegExp, value: string) {
  fireEvent.change(screen.getByLabelText(label), { target: { value } });
}

describe('login page', () => {
  it('shows the reason of a failed login in words', async () => {
    app(vi.fn(async () => json(401, { error: 'invalid_grant', error_description: 'incorrect password' })) as unknown as typeof fetch);
    fill(/username/i, 'admin');
    fill(/^password/i, 'nope');
    fireEvent.click(screen.getByRole('button', { name: /log in/i }));
    expect(await screen.findByTestId('login-error')).toHaveProperty('textContent', 'Incorrect username or password.');
  });

  it('forces a password change at first login, then lands on the overview', async () => {
    const calls: string[] = [];
    const fetch = vi.fn(async (url: string, init?: RequestInit) => {
      calls.push(`${init?.method ?? 'GET'} ${url}`);
      if (url === '/oauth/token') {
        const form = new URLSearchParams(String(init?.body));
        const first = form.get('password') === 'P@88w0rd';
        return json(200, { access_token: jwt({ username: 'admin', extra: first ? { uninitialized: ['true'] } : {} }), refresh_token: 'r', expires_in: 7200 });
      }
      if (url.endsWith('/users/admin/password')) return json(200, {});
      return json(404, {});
    });
    app(fetch as unknown as typeof globalThis.fetch);
    fill(/username/i, 'admin');
    fill(/^password/i, 'P@88w0rd');
    fireEvent.click(screen.getByRole('button', { name: /log in/i }));
    expect(await screen.findByText(/first login/i)).toBeTruthy();
    fill(/current password/i, 'P@88w0rd');
    fill(/^new password/i, 'short');
    fill(/confirm new password/i, 'short');
    fireEvent.click(screen.getByRole('button', { name: /change password/i }));
    expect((await screen.findByTestId('password-error')).textContent).toMatch(/at least 8/);
    fill(/^new password/i, 'NewPassw0rd');
    fill(/confirm new password/i, 'NewPassw0rd');
    fireEvent.click(screen.getByRole('button', { name: /change password/i }));
    await waitFor(() => expect(screen.getByText('overview page')).toBeTruthy());
    expect(calls).toContain('PUT /kapis/iam.kubesphere.io/v1beta1/users/admin/password');
    const put = fetch.mock.calls.find(([u]) => String(u).endsWith('/password'));
    expect(JSON.parse(String(put?.[1]?.body))).toEqual({ currentPassword: 'P@88w0rd', password: 'NewPassw0rd' });
  });

  it('speaks Simplified Chinese', () => {
    app(vi.fn() as unknown as typeof fetch, 'zh');
    expect(screen.getByRole('button', { name: '登录' })).toBeTruthy();
  });
});
