// The YAML editor, split into its own chunk so CodeMirror is loaded only when one opens.

import { lazy, Suspense } from 'react';
import type { YamlFormProps } from './yaml/YamlForm';
import { Loading } from './Feedback';

const YamlForm = lazy(() => import('./yaml/YamlForm'));

export function YamlEditor(props: YamlFormProps) {
  return (
    <Suspense fallback={<Loading />}>
      <YamlForm {...props} />
    </Suspense>
  );
}
