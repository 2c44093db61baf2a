import { describe, expect, it } from 'vitest';
import { fieldPath, lineOfField } from '../components/yaml/locate';
import { toParams } from '../api/query';
import { normalizeList } from '../api/types';
import { deploymentFormProblems, deploymentFromForm, emailProblem, nameProblem, passwordProblem, scheduleProblem, workloadFormProblems, workloadFromForm } from './forms';
import { workloadSummary } from './workloadStatus';

describe('forms', () => {
  it('checks names as DNS labels', () => {
    expect(nameProblem('')).toBe('form.required');
    expect(nameProblem('Web')).toBe('form.nameInvalid');
    expect(nameProblem('-web')).toBe('form.nameInvalid');
    expect(nameProblem('a'.repeat(64))).toBe('form.nameTooLong');
    expect(nameProblem('web-1')).toBeUndefined();
  });

  it('checks passwords like KubeSphere', () => {
    expect(passwordProblem('Ab1', 'Ab1')).toBe('password.tooShort');
    expect(passwordProblem('abcdefgh', 'abcdefgh')).toBe('password.tooWeak');
    expect(passwordProblem('Abcdefg1', 'Abcdefg2')).toBe('password.mismatch');
    expect(passwordProblem('Abcdefg1', 'Abcdefg1', 'Abcdefg1')).toBe('password.same');
    expect(passwordProblem('Abcdefg1', 'Abcdefg1', 'old')).toBeUndefined();
    expect(emailProblem('a@b')).toBe('form.emailInvalid');
    expect(emailProblem('a@b.io')).toBeUndefined();
  });

  it('builds a Deployment from the form', () => {
    const d = deploymentFromForm('dev', { name: 'web', image: 'nginx:1.27', replicas: 2, port: 80, env: [{ name: '', value: 'x' }] });
    expect(d.spec.selector.matchLabels).toEqual({ app: 'web' });
    expect(d.spec.template.metadata.labels).toEqual({ app: 'web' });
    expect(d.spec.template.spec.containers[0]).toEqual({ name: 'web', image: 'nginx:1.27', ports: [{ containerPort: 80, protocol: 'TCP' }] });
    expect(d.metadata.namespace).toBe('dev');
    expect(deploymentFormProblems({ name: 'web', image: 'a b', replicas: -1, port: 70000, env: [] })).toEqual({ image: 'form.imageInvalid', replicas: 'form.replicasInvalid', port: 'form.portInvalid' });
  });
});

describe('list queries and shapes', () => {
  it('writes the v1alpha3 parameters', () => {
    expect(toParams({ page: 2, limit: 20, sortBy: 'name', ascending: true, name: ' web ', status: 'running', labelSelector: 'app=web', filters: { label: 'kubesphere.io/workspace=w', x: undefined } })).toEqual({
      page: '2', limit: '20', sortBy: 'name', ascending: 'true', name: 'web', status: 'running', labelSelector: 'app=web', label: 'kubesphere.io/workspace=w',
    });
  });

  it('accepts KubeSphere, Kubernetes and bare lists', () => {
    expect(normalizeList({ items: [1], totalItems: 40 })).toEqual({ items: [1], totalItems: 40 });
    expect(normalizeList({ items: [1, 2], metadata: {} })).toEqual({ items: [1, 2], totalItems: 2 });
    expect(normalizeList([3])).toEqual({ items: [3], totalItems: 1 });
    expect(normalizeList(null)).toEqual({ items: [], totalItems: 0 });
  });

  it('summarises workload status like the resources API filter', () => {
    expect(workloadSummary('deployments', { metadata: { name: 'a' }, spec: { replicas: 0 }, status: {} }).status).toBe('stopped');
    expect(workloadSummary('deployments', { metadata: { name: 'a' }, spec: { replicas: 2 }, status: { readyReplicas: 1 } })).toEqual({ ready: '1/2', status: 'updating' });
    expect(workloadSummary('deployments', { metadata: { name: 'a' }, spec: { replicas: 2 }, status: { readyReplicas: 2, updatedReplicas: 2 } }).status).toBe('running');
  });
});

describe('server validation errors in the YAML', () => {
  const text = 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: -1\n  template:\n    spec:\n      containers:\n        - name: web\n          image: ""\n';
  it('finds the line of a field path', () => {
    expect(fieldPath('spec.template.spec.containers[0].image')).toEqual(['spec', 'template', 'spec', 'containers', 0, 'image']);
    expect(lineOfField(text, 'spec.replicas')).toBe(6);
    expect(lineOfField(text, 'spec.template.spec.containers[0].image')).toBe(11);
    expect(lineOfField(text, 'spec.template.spec.containers[0].ports')).toBe(10);
    expect(lineOfField(text, 'status')).toBeUndefined();
  });
});

describe('workload forms', () => {
  const f = { name: 'tick', image: 'busybox:1.36', replicas: 3, env: [], schedule: '*/10 * * * *' };
  it('builds each workload kind with what it requires', () => {
    const sts = workloadFromForm('statefulsets', 'dev', f) as { kind: string; spec: { serviceName: string; replicas: number } };
    expect(sts.kind).toBe('StatefulSet');
    expect(sts.spec.serviceName).toBe('tick');
    expect(sts.spec.replicas).toBe(3);
    const ds = workloadFromForm('daemonsets', 'dev', f) as { spec: Record<string, unknown> };
    expect(ds.spec.replicas).toBeUndefined();
    const job = workloadFromForm('jobs', 'dev', f) as { spec: { selector?: unknown; template: { spec: { restartPolicy: string } } } };
    expect(job.spec.selector).toBeUndefined();
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
    const cj = workloadFromForm('cronjobs', 'dev', f) as { spec: { schedule: string; jobTemplate: { spec: { template: { spec: { restartPolicy: string; containers: { image: string }[] } } } } } };
    expect(cj.spec.schedule).toBe('*/10 * * * *');
    expect(cj.spec.jobTemplate.spec.template.spec.restartPolicy).toBe('OnFailure');
    expect(cj.spec.jobTemplate.spec.template.spec.containers[0]?.image).toBe('busybox:1.36');
  });

  it('checks replicas only where they exist and schedules only for CronJobs', () => {
    expect(workloadFormProblems('daemonsets', { ...f, replicas: -1 })).toEqual({});
    expect(workloadFormProblems('deployments', { ...f, replicas: -1 })).toEqual({ replicas: 'form.replicasInvalid' });
    expect(workloadFormProblems('cronjobs', { ...f, schedule: 'every minute' })).toEqual({ schedule: 'form.scheduleInvalid' });
    expect(scheduleProblem('@hourly')).toBeUndefined();
    expect(scheduleProblem('0 3 * * 1-5')).toBeUndefined();
    expect(scheduleProblem('')).toBe('form.required');
  });
});
