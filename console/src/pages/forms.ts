// Validation of the console's forms, as pure functions the unit tests exercise.

import type { MessageKey } from '../i18n';

/** Kubernetes object names: DNS-1123 labels (workspaces, projects, users) of at most 63 characters. */
export function nameProblem(name: string): MessageKey | undefined {
  if (!name) return 'form.required';
  if (name.length > 63) return 'form.nameTooLong';
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name)) return 'form.nameInvalid';
  return undefined;
}

/** KubeSphere's password rule: at least 8 characters with a lowercase letter, an uppercase letter and a digit. */
export function passwordProblem(password: string, confirm: string, current?: string): MessageKey | undefined {
  if (password.length < 8) return 'password.tooShort';
  if (!/[a-z]/.test(password) || !/[A-Z]/.test(password) || !/[0-9]/.test(password)) return 'password.tooWeak';
  if (password !== confirm) return 'password.mismatch';
  if (current !== undefined && current === password) return 'password.same';
  return undefined;
}

export function emailProblem(email: string): MessageKey | undefined {
  if (!email) return 'form.required';
  return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) ? undefined : 'form.emailInvalid';
}

export interface ContainerForm {
  name: string;
  image: string;
  replicas: number;
  port?: number;
  env: { name: string; value: string }[];
}

/** A Deployment object from the simple create form. */
export function deploymentFromForm(namespace: string, f: ContainerForm) {
  const labels = { app: f.name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: f.name, namespace, labels },
    spec: {
      replicas: f.replicas,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          containers: [
            {
              name: f.name,
              image: f.image,
              ...(f.port ? { ports: [{ containerPort: f.port, protocol: 'TCP' }] } : {}),
              ...(f.env.filter((e) => e.name).length ? { env: f.env.filter((e) => e.name) } : {}),
            },
          ],
        },
      },
    },
  };
}

export function deploymentFormProblems(f: ContainerForm): Partial<Record<'name' | 'image' | 'replicas' | 'port', MessageKey>> {
  const out: Partial<Record<'name' | 'image' | 'replicas' | 'port', MessageKey>> = {};
  const n = nameProblem(f.name);
  if (n) out.name = n;
  if (!f.image.trim()) out.image = 'form.required';
  else if (/\s/.test(f.image)) out.image = 'form.imageInvalid';
  if (!Number.isInteger(f.replicas) || f.replicas < 0 || f.replicas > 1000) out.replicas = 'form.replicasInvalid';
  if (f.port !== undefined && (!Number.isInteger(f.port) || f.port < 1 || f.port > 65535)) out.port = 'form.portInvalid';
  return out;
}
