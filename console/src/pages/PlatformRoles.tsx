// Platform roles (GlobalRoles), read-only.

import { useApp } from '../app/context';
import { useI18n } from '../i18n';
import { PageTitle, RolesList } from './common';

export default function PlatformRoles() {
  const { platform } = useApp();
  const { t } = useI18n();
  return (
    <div>
      <PageTitle title={t('menu.platformRoles')} />
      <RolesList label={t('menu.platformRoles')} fetch={(q) => platform.globalRoles(q)} />
    </div>
  );
}
