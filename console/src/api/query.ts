// The resources.kubesphere.io/v1alpha3 list query: page, limit, sortBy, ascending and filters.

export interface ListQuery {
  page: number;
  limit: number;
  sortBy?: string;
  ascending?: boolean;
  /** Substring of the name (v4 also matches the alias annotation). */
  name?: string;
  /** A per-resource status filter, e.g. `running|updating|stopped` for deployments. */
  status?: string;
  labelSelector?: string;
  /** Other filters (`label`, `ownerReference`, `globalrole`, ...). */
  filters?: Record<string, string | undefined>;
}

export const DEFAULT_QUERY: ListQuery = { page: 1, limit: 10, sortBy: 'createTime', ascending: false };

export function toParams(q: ListQuery): Record<string, string> {
  const out: Record<string, string> = { page: String(Math.max(1, Math.floor(q.page))), limit: String(Math.max(1, Math.floor(q.limit))) };
  if (q.sortBy) out.sortBy = q.sortBy;
  if (q.ascending !== undefined) out.ascending = String(q.ascending);
  if (q.name?.trim()) out.name = q.name.trim();
  if (q.status) out.status = q.status;
  if (q.labelSelector?.trim()) out.labelSelector = q.labelSelector.trim();
  for (const [k, v] of Object.entries(q.filters ?? {})) if (v) out[k] = v;
  return out;
}

/** The number of pages for a total, at least one. */
export function pageCount(total: number, limit: number): number {
  return Math.max(1, Math.ceil(total / Math.max(1, limit)));
}
