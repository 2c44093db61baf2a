// The YAML editing flow: parse, dry-run on the server, show problems inline, then save.

import { Button, Group, Progress, Stack, Text, useComputedColorScheme } from '@mantine/core';
import { useState } from 'react';
import { parse, stringify, YAMLParseError } from 'yaml';
import { ApiError, messageOf } from '../../api/errors';
import type { K8sObject } from '../../api/types';
import { useI18n } from '../../i18n';
import CodeEditor, { type LineProblem } from './CodeEditor';
import { lineOfField } from './locate';

export interface YamlFormProps {
  initial: K8sObject | string;
  /** Saves the object; called first with dryRun=true so the server validates it. */
  save?: (obj: K8sObject, dryRun: boolean) => Promise<unknown>;
  onDone?: () => void;
  onCancel?: () => void;
}

/** Drops fields the server owns so an edit does not fight them, and puts apiVersion, kind and metadata first as kubectl shows them. */
export function forEditing(obj: K8sObject): K8sObject {
  const { managedFields: _m, ...metadata } = obj.metadata as K8sObject['metadata'] & { managedFields?: unknown };
  const { apiVersion, kind, metadata: _old, ...rest } = obj;
  return { ...(apiVersion ? { apiVersion } : {}), ...(kind ? { kind } : {}), metadata, ...rest };
}

export default function YamlForm({ initial, save, onDone, onCancel }: YamlFormProps) {
  const { t } = useI18n();
  const dark = useComputedColorScheme('light') === 'dark';
  const [text, setText] = useState(() => (typeof initial === 'string' ? initial : stringify(forEditing(initial))));
  const [problems, setProblems] = useState<LineProblem[]>([]);
  const [stage, setStage] = useState<'idle' | 'validating' | 'saving'>('idle');
  const [summary, setSummary] = useState<string>();

  const submit = async () => {
    if (!save) return;
    setProblems([]);
    setSummary(undefined);
    let obj: K8sObject;
    try {
      const v: unknown = parse(text);
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(t('yaml.notObject'));
      obj = v as K8sObject;
      if (!obj.metadata?.name) throw new Error(t('yaml.noName'));
    } catch (e) {
      const line = e instanceof YAMLParseError ? e.linePos?.[0]?.line : undefined;
      setProblems([{ line, message: messageOf(e) }]);
      setSummary(messageOf(e));
      return;
    }
    try {
      setStage('validating');
      await save(obj, true);
      setStage('saving');
      await save(obj, false);
      setStage('idle');
      onDone?.();
    } catch (e) {
      setStage('idle');
      setSummary(messageOf(e));
      const causes = e instanceof ApiError ? e.causes : [];
      setProblems(
        causes.length
          ? causes.map((c) => ({ line: c.field ? lineOfField(text, c.field) : undefined, message: c.field ? `${c.field}: ${c.message}` : c.message }))
          : [{ message: messageOf(e) }],
      );
    }
  };

  return (
    <Stack>
      <CodeEditor value={text} onChange={setText} problems={problems} readOnly={!save} label={t('yaml.editor')} dark={dark} />
      {summary ? (
        <Text c="red" size="sm" role="alert" data-testid="yaml-error">
          {summary}
        </Text>
      ) : null}
      {problems
        .filter((p) => p.message !== summary)
        .map((p, i) => (
          <Text c="red" size="sm" key={i}>
            {p.line ? t('yaml.line', { n: p.line }) : ''} {p.message}
          </Text>
        ))}
      {stage !== 'idle' ? <Progress value={100} animated aria-label={t(stage === 'validating' ? 'yaml.validating' : 'yaml.saving')} /> : null}
      <Group justify="flex-end">
        {onCancel ? (
          <Button variant="default" onClick={onCancel}>
            {t('action.cancel')}
          </Button>
        ) : null}
        {save ? (
          <Button onClick={submit} loading={stage !== 'idle'}>
            {t('action.save')}
          </Button>
        ) : null}
      </Group>
    </Stack>
  );
}
