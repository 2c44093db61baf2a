import { MantineProvider } from '@mantine/core';
import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import type { ListQuery } from '../api/query';
import { I18nProvider } from '../i18n';
import { ResourceTable } from './ResourceTable';

interface Row {
  name: string;
}

function setup(total: number) {
  const fetch = vi.fn(async (q: ListQuery) => ({
    items: Array.from({ length: Math.min(q.limit, Math.max(0, total - (q.page - 1) * q.limit)) }, (_, i) => ({ name: `item-${(q.page - 1) * q.limit + i}` })),
    totalItems: total,
  }));
  render(
    <MantineProvider>
      <I18nProvider lang="en">
        <ResourceTable<Row> label="things" fetch={fetch} rowKey={(r) => r.name} columns={[{ key: 'name', title: 'Name', render: (r) => r.name, sortBy: 'name' }]} statuses={['running', 'stopped']} />
      </I18nProvider>
    </MantineProvider>,
  );
  return fetch;
}

describe('ResourceTable', () => {
  it('asks the server for one page at a time and shows the total', async () => {
    const fetch = setup(10_000);
    expect(await screen.findByText('item-0')).toBeTruthy();
    expect(screen.getByTestId('total').textContent).toBe('10000 items');
    expect(fetch).toHaveBeenLastCalledWith(expect.objectContaining({ page: 1, limit: 10, sortBy: 'createTime', ascending: false }), expect.anything());
    expect(screen.getAllByRole('row')).toHaveLength(11);
    fireEvent.click(screen.getByRole('button', { name: 'Next page' }));
    expect(await screen.findByText('item-10')).toBeTruthy();
    expect(fetch).toHaveBeenLastCalledWith(expect.objectContaining({ page: 2, limit: 10 }), expect.anything());
  });

  it('sorts on the server when a column header is activated, and goes back to page 1', async () => {
    const fetch = setup(50);
    await screen.findByText('item-0');
    fireEvent.click(screen.getByRole('button', { name: 'Next page' }));
    await screen.findByText('item-10');
    fireEvent.click(screen.getByRole('button', { name: /Name/ }));
    await waitFor(() => expect(fetch).toHaveBeenLastCalledWith(expect.objectContaining({ page: 1, sortBy: 'name', ascending: true }), expect.anything()));
    expect(screen.getByRole('columnheader', { name: /Name/ }).getAttribute('aria-sort')).toBe('ascending');
  });

  it('searches by name on the server after typing stops', async () => {
    const fetch = setup(50);
    await screen.findByText('item-0');
    fireEvent.change(screen.getByLabelText('Search by name'), { target: { value: 'web' } });
    await waitFor(() => expect(fetch).toHaveBeenLastCalledWith(expect.objectContaining({ name: 'web', page: 1 }), expect.anything()), { timeout: 2000 });
  });

  it('shows an API failure in words with a retry, never a blank table', async () => {
    const fetch = vi.fn().mockRejectedValueOnce(new TypeError('Failed to fetch')).mockResolvedValue({ items: [{ name: 'back' }], totalItems: 1 });
    render(
      <MantineProvider>
        <I18nProvider lang="en">
          <ResourceTable<Row> label="things" fetch={fetch} rowKey={(r) => r.name} columns={[{ key: 'name', title: 'Name', render: (r) => r.name }]} />
        </I18nProvider>
      </MantineProvider>,
    );
    expect((await screen.findByTestId('error')).textContent).toContain('Cannot reach the server');
    fireEvent.click(screen.getByRole('button', { name: 'Retry' }));
    expect(await screen.findByText('back')).toBeTruthy();
  });

  it('after a change made from the page, looks again while the server caches catch up', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      // The first answer after the change still misses the new row (a cache trailing the write).
      let calls = 0;
      const fetch = vi.fn(async () => {
        calls++;
        return calls < 3 ? { items: [{ name: 'old' }], totalItems: 1 } : { items: [{ name: 'old' }, { name: 'new' }], totalItems: 2 };
      });
      const view = (reloadKey: number) => (
        <MantineProvider>
          <I18nProvider lang="en">
            <ResourceTable<Row> label="things" fetch={fetch} reloadKey={reloadKey} rowKey={(r) => r.name} columns={[{ key: 'name', title: 'Name', render: (r) => r.name }]} />
          </I18nProvider>
        </MantineProvider>
      );
      const { rerender } = render(view(0));
      await screen.findByText('old');
      rerender(view(1));
      await waitFor(() => expect(fetch).toHaveBeenCalledTimes(2));
      expect(screen.queryByText('new')).toBeNull();
      await vi.advanceTimersByTimeAsync(1_000);
      expect(await screen.findByText('new')).toBeTruthy();
    } finally {
      vi.useRealTimers();
    }
  });
});
