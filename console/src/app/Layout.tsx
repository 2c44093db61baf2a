// The shell around every logged-in page: header (language, theme, user) and the permission-driven menu.

import { ActionIcon, Burger, Group, Menu, NavLink, SegmentedControl, Text, Title, useMantineColorScheme, useComputedColorScheme } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import type { ReactNode } from 'react';
import { Link, NavLink as RouterLink, Outlet, useLocation } from 'react-router-dom';
import { PLATFORM_MENU, visible, type MenuEntry } from '../api/permissions';
import { ErrorBoundary } from '../components/Feedback';
import { useI18n, type Lang, type MessageKey } from '../i18n';
import { useApp } from './context';
import { useTemplates } from './hooks';

export function SideMenu({ entries, base, label }: { entries: MenuEntry[]; base: string; label: string }) {
  const { t } = useI18n();
  const location = useLocation();
  return (
    <nav aria-label={label}>
      {entries.map((e) => {
        const to = e.path.startsWith('/') ? e.path : `${base}${e.path ? `/${e.path}` : ''}`;
        const active = e.path === '' ? location.pathname === base : location.pathname.startsWith(to.replace(/\/deployments$/, ''));
        return <NavLink key={e.key} component={RouterLink} to={to} end={e.path === ''} label={t(`menu.${e.key}` as MessageKey)} active={active} data-testid={`menu-${e.key}`} />;
      })}
    </nav>
  );
}

export function Layout({ children }: { children?: ReactNode }) {
  const { api, session } = useApp();
  const { t, lang, setLang } = useI18n();
  const [opened, { toggle }] = useDisclosure();
  // keepTransitions: otherwise Mantine adds a <style> element during the switch, which the CSP blocks.
  const { setColorScheme } = useMantineColorScheme({ keepTransitions: true });
  const scheme = useComputedColorScheme('light');
  const global = useTemplates('global');
  // Cluster roles (cluster-view-nodes, ...) also open the Cluster entry of the main menu.
  const cluster = useTemplates('cluster');
  const location = useLocation();
  const entries = global && cluster ? visible(PLATFORM_MENU, new Set([...global, ...cluster])) : [];
  return (
    // A plain CSS grid (app.css) rather than Mantine's AppShell, which injects a <style> element
    // that the Content-Security-Policy (no 'unsafe-inline') would block.
    <div className="shell" data-nav-open={opened}>
      <header className="shell-header">
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group>
            <Burger opened={opened} onClick={toggle} className="shell-burger" size="sm" aria-label={t('nav.toggle')} />
            <Title order={4}>
              <Link to="/overview" className="brand">
                Ferrosphere
              </Link>
            </Title>
          </Group>
          <Group>
            <SegmentedControl size="xs" aria-label={t('nav.language')} value={lang} onChange={(v) => setLang(v as Lang)} data={[{ value: 'en', label: 'EN' }, { value: 'zh', label: '中文' }]} />
            <ActionIcon variant="default" onClick={() => setColorScheme(scheme === 'dark' ? 'light' : 'dark')} aria-label={t('nav.theme')} data-testid="theme-toggle">
              {scheme === 'dark' ? '☀' : '☾'}
            </ActionIcon>
            <Menu position="bottom-end">
              <Menu.Target>
                <ActionIcon variant="default" w="auto" px="xs" aria-label={t('nav.userMenu')} data-testid="user-menu">
                  <Text size="sm">{session?.username}</Text>
                </ActionIcon>
              </Menu.Target>
              <Menu.Dropdown>
                <Menu.Item component={Link} to="/account">
                  {t('nav.account')}
                </Menu.Item>
                <Menu.Item onClick={() => void api.logout()} data-testid="logout">
                  {t('nav.logout')}
                </Menu.Item>
              </Menu.Dropdown>
            </Menu>
          </Group>
        </Group>
      </header>
      <aside className="shell-nav">
        <SideMenu entries={entries} base="" label={t('nav.main')} />
      </aside>
      <main className="shell-main">
        <ErrorBoundary resetKey={location.pathname}>{children ?? <Outlet />}</ErrorBoundary>
      </main>
    </div>
  );
}
