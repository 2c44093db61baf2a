import { describe, expect, it } from 'vitest';
import { groupTemplates, isBuiltinRole, roleFromForm, shownRoleName, storedRoleName, templatesOfRole, toggleTemplate, type RoleObject } from './roles';

const WS = { scope: 'workspace', workspace: 'acme' } as const;
const NS = { scope: 'namespace', namespace: 'shop' } as const;
const GLOBAL = { scope: 'global' } as const;

describe('roles', () => {
  it('knows the built-in roles at each level', () => {
    expect(isBuiltinRole(GLOBAL, 'platform-admin')).toBe(true);
    expect(isBuiltinRole(GLOBAL, 'auditor')).toBe(false);
    expect(isBuiltinRole(WS, 'acme-admin')).toBe(true);
    expect(isBuiltinRole(WS, 'acme-self-provisioner')).toBe(true);
    // Another workspace's built-in name is just a custom role here.
    expect(isBuiltinRole(WS, 'other-admin')).toBe(false);
    expect(isBuiltinRole(NS, 'operator')).toBe(true);
    expect(isBuiltinRole(NS, 'cm-editor')).toBe(false);
  });

  it('names custom workspace roles <workspace>-<name> and shows them without the prefix', () => {
    expect(storedRoleName(WS, 'auditor')).toBe('acme-auditor');
    expect(storedRoleName(WS, 'acme-auditor')).toBe('acme-auditor');
    expect(storedRoleName(NS, 'auditor')).toBe('auditor');
    expect(shownRoleName(WS, 'acme-auditor')).toBe('auditor');
    expect(shownRoleName(GLOBAL, 'acme-auditor')).toBe('acme-auditor');
  });

  it('reads templates from aggregationRoleTemplates, else from the annotation', () => {
    expect(templatesOfRole({ metadata: { name: 'r' }, aggregationRoleTemplates: { templateNames: ['a', 'b'] } })).toEqual(['a', 'b']);
    expect(templatesOfRole({ metadata: { name: 'r', annotations: { 'iam.kubesphere.io/aggregation-roles': '["x","y"]' } } })).toEqual(['x', 'y']);
    expect(templatesOfRole({ metadata: { name: 'r', annotations: { 'iam.kubesphere.io/aggregation-roles': 'not json' } } })).toEqual([]);
    expect(templatesOfRole({ metadata: { name: 'r' } })).toEqual([]);
  });

  it('builds a project Role with the templates in both places and no hand-written rules', () => {
    const r = roleFromForm(NS, { name: ' cm-editor ', description: 'Edits config', templates: ['namespace-view-configmaps', 'namespace-manage-configmaps', 'namespace-view-configmaps'] });
    expect(r.apiVersion).toBe('rbac.authorization.k8s.io/v1');
    expect(r.kind).toBe('Role');
    expect(r.metadata.name).toBe('cm-editor');
    expect(r.metadata.namespace).toBe('shop');
    expect(r.aggregationRoleTemplates?.templateNames).toEqual(['namespace-manage-configmaps', 'namespace-view-configmaps']);
    expect(JSON.parse(r.metadata.annotations?.['iam.kubesphere.io/aggregation-roles'] ?? '')).toEqual(['namespace-manage-configmaps', 'namespace-view-configmaps']);
    expect(r.metadata.annotations?.['kubesphere.io/description']).toBe('Edits config');
    expect(r.rules).toEqual([]);
  });

  it('builds a WorkspaceRole labelled with its workspace, and keeps an existing role\'s metadata on edit', () => {
    const w = roleFromForm(WS, { name: 'auditor', description: '', templates: ['workspace-view-members'] });
    expect(w.kind).toBe('WorkspaceRole');
    expect(w.metadata.name).toBe('acme-auditor');
    expect(w.metadata.labels?.['kubesphere.io/workspace']).toBe('acme');
    expect(w.metadata.annotations?.['kubesphere.io/description']).toBeUndefined();

    const existing: RoleObject = {
      apiVersion: 'iam.kubesphere.io/v1beta1',
      kind: 'GlobalRole',
      metadata: { name: 'auditor', resourceVersion: '42', annotations: { 'kubesphere.io/description': 'old', keep: 'me' } },
      aggregationRoleTemplates: { templateNames: ['global-view-users'] },
      rules: [{ verbs: ['get'] }],
    };
    const g = roleFromForm(GLOBAL, { name: 'ignored', description: '', templates: ['global-view-roles'] }, existing);
    expect(g.metadata.name).toBe('auditor');
    expect(g.metadata.resourceVersion).toBe('42');
    expect(g.metadata.annotations?.keep).toBe('me');
    expect(g.metadata.annotations?.['kubesphere.io/description']).toBeUndefined();
    expect(g.aggregationRoleTemplates?.templateNames).toEqual(['global-view-roles']);
    expect(g.rules).toEqual([]);
  });

  it('ticks the view template with a manage template and drops manage with view', () => {
    const all = ['namespace-view-secrets', 'namespace-manage-secrets', 'namespace-view-members'];
    expect(toggleTemplate([], 'namespace-manage-secrets', true, all)).toEqual(['namespace-view-secrets', 'namespace-manage-secrets']);
    expect(toggleTemplate(['namespace-view-secrets', 'namespace-manage-secrets'], 'namespace-view-secrets', false, all)).toEqual([]);
    expect(toggleTemplate(['namespace-view-secrets', 'namespace-manage-secrets'], 'namespace-manage-secrets', false, all)).toEqual(['namespace-view-secrets']);
    expect(toggleTemplate([], 'namespace-view-members', true, all)).toEqual(['namespace-view-members']);
  });

  it('groups templates by category with display names in the chosen language', () => {
    const t = (name: string, category: string, en: string, zh: string) => ({ metadata: { name, labels: { 'iam.kubesphere.io/category': category } }, spec: { displayName: { en, zh } } });
    const groups = groupTemplates([t('b', 'z-cat', 'B', '乙'), t('a', 'a-cat', 'A', '甲'), t('c', 'z-cat', 'C', '丙'), { metadata: { name: 'd' } }], 'zh');
    expect(groups.map((g) => g.category)).toEqual(['a-cat', 'other', 'z-cat']);
    expect(groups[2]?.templates).toEqual([
      { name: 'b', label: '乙' },
      { name: 'c', label: '丙' },
    ]);
    expect(groups[1]?.templates).toEqual([{ name: 'd', label: 'd' }]);
  });
});
