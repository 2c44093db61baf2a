// A list with server-side search, sort, status filter and paging: never loads a whole collection.

import { Button, Group, LoadingOverlay, Pagination, Select, Table, Text, TextInput, UnstyledButton } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useEffect, useState, type ReactNode } from 'react';
import { pageCount, type ListQuery } from '../api/query';
import type { ListResult } from '../api/types';
import { useAsync } from '../app/hooks';
import { useI18n, type MessageKey } from '../i18n';
import { ErrorAlert } from './Feedback';

export interface Column<T> {
  key: string;
  title: string;
  render: (row: T) => ReactNode;
  /** The resources API `sortBy` value for this column, if it can be sorted. */
  sortBy?: string;
}

export interface ResourceTableProps<T> {
  /** Loads one page; `deps` change resets to page 1. */
  fetch: (q: ListQuery, signal: AbortSignal) => Promise<ListResult<T>>;
  columns: Column<T>[];
  rowKey: (row: T) => string;
  statuses?: string[];
  toolbar?: ReactNode;
  deps?: unknown[];
  label: string;
  /** Changing it reloads the current page (after a create or delete). */
  reloadKey?: number;
  initialSort?: string;
}

/** When to look again after a change made from the page (see the effect below). */
const CATCH_UP_MS = [1_000, 3_000];

export function ResourceTable<T>({ fetch, columns, rowKey, statuses, toolbar, deps = [], label, reloadKey = 0, initialSort = 'createTime' }: ResourceTableProps<T>) {
  const { t } = useI18n();
  const [search, setSearch] = useState('');
  const [debounced] = useDebouncedValue(search, 300);
  const [status, setStatus] = useState<string | null>(null);
  const [page, setPage] = useState(1);
  const [limit, setLimit] = useState(10);
  const [sortBy, setSortBy] = useState(initialSort);
  const [ascending, setAscending] = useState(false);

  const q: ListQuery = { page, limit, sortBy, ascending, name: debounced, status: status ?? undefined };
  const result = useAsync((signal) => fetch(q, signal), [page, limit, sortBy, ascending, debounced, status, reloadKey, ...deps]);
  const data = result.data;
  const { reload } = result;
  useEffect(() => {
    // The resources API answers from watch caches, which trail a write by a moment: after a
    // change made here, look again shortly so the change shows without a manual refresh.
    if (reloadKey === 0) return;
    const timers = CATCH_UP_MS.map((ms) => setTimeout(reload, ms));
    return () => timers.forEach(clearTimeout);
  }, [reloadKey, reload]);
  useEffect(() => {
    // Read by the list benchmark (scripts/bench): when the first page of a list is on screen.
    if (data && typeof performance !== 'undefined' && !performance.getEntriesByName('ferrosphere:list-ready').length) performance.mark('ferrosphere:list-ready');
  }, [data]);
  const pages = pageCount(data?.totalItems ?? 0, limit);

  const toggleSort = (col: string) => {
    if (sortBy === col) setAscending(!ascending);
    else {
      setSortBy(col);
      setAscending(col === 'name');
    }
    setPage(1);
  };

  return (
    <div>
      <Group justify="space-between" mb="sm" wrap="wrap">
        <Group>
          <TextInput
            aria-label={t('list.search')}
            placeholder={t('list.searchPlaceholder')}
            value={search}
            onChange={(e) => {
              setSearch(e.currentTarget.value);
              setPage(1);
            }}
            data-testid="search"
          />
          {statuses ? (
            <Select
              aria-label={t('list.status')}
              placeholder={t('list.allStatuses')}
              clearable
              data={statuses.map((s) => ({ value: s, label: t(`status.${s}` as MessageKey) }))}
              value={status}
              onChange={(v) => {
                setStatus(v);
                setPage(1);
              }}
              w={160}
            />
          ) : null}
          <Button variant="subtle" onClick={result.reload} aria-label={t('action.refresh')}>
            {t('action.refresh')}
          </Button>
        </Group>
        <Group>{toolbar}</Group>
      </Group>
      <ErrorAlert error={result.error} onRetry={result.reload} />
      <div style={{ position: 'relative', minHeight: 80 }}>
        <LoadingOverlay visible={result.loading} overlayProps={{ blur: 0, backgroundOpacity: 0.2 }} loaderProps={{ size: 'sm' }} />
        <Table striped highlightOnHover aria-label={label} aria-busy={result.loading} data-testid="resource-table">
          <Table.Thead>
            <Table.Tr>
              {columns.map((c) => (
                <Table.Th key={c.key} aria-sort={c.sortBy && sortBy === c.sortBy ? (ascending ? 'ascending' : 'descending') : undefined}>
                  {c.sortBy ? (
                    <UnstyledButton onClick={() => toggleSort(c.sortBy ?? '')} fw={600} fz="sm">
                      {c.title} {sortBy === c.sortBy ? (ascending ? '▲' : '▼') : ''}
                    </UnstyledButton>
                  ) : (
                    c.title
                  )}
                </Table.Th>
              ))}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {data?.items.map((row) => (
              <Table.Tr key={rowKey(row)}>
                {columns.map((c) => (
                  <Table.Td key={c.key}>{c.render(row)}</Table.Td>
                ))}
              </Table.Tr>
            ))}
            {data && data.items.length === 0 ? (
              <Table.Tr>
                <Table.Td colSpan={columns.length}>
                  <Text c="dimmed" ta="center" py="md">
                    {t('list.empty')}
                  </Text>
                </Table.Td>
              </Table.Tr>
            ) : null}
          </Table.Tbody>
        </Table>
      </div>
      <Group justify="space-between" mt="sm">
        <Text size="sm" c="dimmed" data-testid="total">
          {t('list.total', { n: data?.totalItems ?? 0 })}
        </Text>
        <Group>
          <Select
            aria-label={t('list.pageSize')}
            data={['10', '20', '50', '100']}
            value={String(limit)}
            onChange={(v) => {
              setLimit(Number(v ?? 10));
              setPage(1);
            }}
            w={90}
            allowDeselect={false}
          />
          <Pagination total={pages} value={page} onChange={setPage} getControlProps={(c) => ({ 'aria-label': c === 'previous' ? t('list.previous') : c === 'next' ? t('list.next') : c })} />
        </Group>
      </Group>
    </div>
  );
}
