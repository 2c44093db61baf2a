// Error and progress displays: an error alert with retry, and a boundary so no page is ever blank.

import { Alert, Button, Center, Group, Loader, Stack, Text } from '@mantine/core';
import { Component, type ErrorInfo, type ReactNode } from 'react';
import { ApiError, messageOf } from '../api/errors';
import { useI18n } from '../i18n';

export function ErrorAlert({ error, onRetry, title }: { error: unknown; onRetry?: () => void; title?: string }) {
  const { t } = useI18n();
  if (!error) return null;
  const causes = error instanceof ApiError ? error.causes : [];
  return (
    <Alert color="red" title={title ?? t('error.title')} role="alert" data-testid="error">
      <Stack gap={4}>
        <Text size="sm">{messageOf(error)}</Text>
        {causes.map((c, i) => (
          <Text size="sm" key={i}>
            {c.field ? <b>{c.field}: </b> : null}
            {c.message}
          </Text>
        ))}
        {onRetry ? (
          <Group>
            <Button size="xs" variant="light" color="red" onClick={onRetry}>
              {t('action.retry')}
            </Button>
          </Group>
        ) : null}
      </Stack>
    </Alert>
  );
}

export function Loading() {
  const { t } = useI18n();
  return (
    <Center p="xl" aria-busy="true">
      <Loader size="sm" aria-label={t('state.loading')} />
    </Center>
  );
}

interface BoundaryState {
  error: Error | null;
}

/** Shows what went wrong instead of unmounting the whole console. */
export class ErrorBoundary extends Component<{ children: ReactNode; resetKey?: string }, BoundaryState> {
  override state: BoundaryState = { error: null };

  static getDerivedStateFromError(error: Error): BoundaryState {
    return { error };
  }

  override componentDidUpdate(prev: { resetKey?: string }) {
    if (prev.resetKey !== this.props.resetKey && this.state.error) this.setState({ error: null });
  }

  override componentDidCatch(error: Error, info: ErrorInfo) {
    console.error('console page failed', error, info.componentStack);
  }

  override render() {
    if (this.state.error) {
      return (
        <Alert color="red" title="Something went wrong on this page / 页面出错" role="alert" m="md">
          <Text size="sm">{this.state.error.message}</Text>
          <Button mt="sm" size="xs" variant="light" color="red" onClick={() => this.setState({ error: null })}>
            Retry / 重试
          </Button>
        </Alert>
      );
    }
    return this.props.children;
  }
}
