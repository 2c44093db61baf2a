import { describe, expect, it, vi } from 'vitest';
import { accessReview, ALL_TEMPLATES, holds, PLATFORM_MENU, PROJECT_MENU, visible, withPlatformGrants, WORKSPACE_MENU } from './permissions';
import type { ApiClient } from './client';

const keys = (entries: { key: string }[]) => entries.map((e) => e.key);

describe('menus from role templates', () => {
  it('a regular user sees overview and workspaces only', () => {
    expect(keys(visible(PLATFORM_MENU, new Set()))).toEqual(['overview', 'workspaces']);
  });

  it('a platform admin sees users, roles and the cluster', () => {
    expect(keys(visible(PLATFORM_MENU, new Set(ALL_TEMPLATES.global)))).toEqual(['overview', 'workspaces', 'users', 'platformRoles', 'cluster']);
  });

  it('manage implies view', () => {
    const s = new Set(['namespace-manage-app-workloads']);
    expect(holds(s, 'namespace-view-app-workloads')).toBe(true);
    expect(holds(s, 'namespace-view-secrets')).toBe(false);
  });

  it('a project operator sees workloads and configuration but not members or roles', () => {
    const operator = new Set(['namespace-manage-app-workloads', 'namespace-manage-services', 'namespace-manage-configmaps', 'namespace-view-secrets', 'namespace-manage-persistentvolumeclaims']);
    expect(keys(visible(PROJECT_MENU, operator))).toEqual(['workloads', 'services', 'configmaps', 'secrets', 'persistentvolumeclaims']);
  });

  it('a project viewer sees the lists but holds no manage template', () => {
    const viewer = new Set(ALL_TEMPLATES.namespace.filter((t) => t.includes('-view-')));
    expect(keys(visible(PROJECT_MENU, viewer))).toHaveLength(PROJECT_MENU.length);
    expect([...viewer].some((t) => t.includes('manage'))).toBe(false);
  });

  it('a workspace member without templates sees only the overview', () => {
    expect(keys(visible(WORKSPACE_MENU, new Set()))).toEqual(['overview']);
  });

  it('a platform workspace manager gets every workspace and project template', () => {
    const global = new Set(['global-manage-workspaces']);
    expect(withPlatformGrants('namespace', [], global, ALL_TEMPLATES).size).toBe(ALL_TEMPLATES.namespace.length);
    expect(withPlatformGrants('namespace', ['namespace-view-members'], new Set(), ALL_TEMPLATES)).toEqual(new Set(['namespace-view-members']));
  });
});

describe('access review', () => {
  it('posts a SelfSubjectAccessReview and reads status.allowed', async () => {
    const post = vi.fn(async () => ({ status: { allowed: true } }));
    const api = { post } as unknown as ApiClient;
    await expect(accessReview(api, { verb: 'patch', group: 'apps', resource: 'deployments', subresource: 'scale', namespace: 'dev' })).resolves.toBe(true);
    expect(post).toHaveBeenCalledWith('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', expect.objectContaining({ kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: expect.objectContaining({ verb: 'patch', resource: 'deployments', subresource: 'scale', namespace: 'dev', group: 'apps' }) } }));
  });
});
