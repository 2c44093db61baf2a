// Entry point: the Mantine theme (static CSS, no injected <style>), i18n, the API client and the routes.

import '@mantine/core/styles.css';
import './app.css';
import { MantineProvider, Modal, createTheme, localStorageColorSchemeManager } from '@mantine/core';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { ApiClient } from './api/client';
import { App } from './app/App';
import { AppProvider } from './app/context';
import { I18nProvider } from './i18n';

const api = new ApiClient();
// Modal's scroll lock injects a <style> element (react-remove-scroll), which the CSP blocks.
const theme = createTheme({ components: { Modal: Modal.extend({ defaultProps: { lockScroll: false } }) } });
const colorSchemeManager = localStorageColorSchemeManager({ key: 'ferrosphere.color-scheme' });
const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      {/* withCssVariables={false}: the default theme's variables ship in styles.css, so no inline
          <style> is injected and the Content-Security-Policy needs no 'unsafe-inline'. */}
      <MantineProvider theme={theme} colorSchemeManager={colorSchemeManager} defaultColorScheme="light" withCssVariables={false} withGlobalClasses={false}>
        <I18nProvider>
          <AppProvider api={api}>
            <App />
          </AppProvider>
        </I18nProvider>
      </MantineProvider>
    </StrictMode>,
  );
}
