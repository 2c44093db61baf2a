// Platform roles (GlobalRoles): built-in ones read-only, custom ones edited by role templates.

import { holds } from '../api/permissions';
import { useTemplates } from '../app/hooks';
import { Loading } from '../components/Feedback';
import { useI18n } from '../i18n';
import { RolesPage } from './Roles';

const AT = { scope: 'global' } as const;

export default function PlatformRoles() {
  const { t } = useI18n();
  const templates = useTemplates('global');
  if (!templates) return <Loading />;
  return <RolesPage at={AT} title={t('menu.platformRoles')} canManage={holds(templates, 'global-manage-roles')} />;
}
