/** The allocation sources' config section: the schedulers the `allocations` role polls or watches. */
import { z } from 'zod';
import { leaf, readableFile, requires } from '../core/config';

export const AllocationSourcesConfigSchema = z.strictObject({
  slurmCommand: leaf(z.string().optional(), 'EASTWATCH_SLURM_COMMAND', 'Command printing Slurm jobs as JSON, polled (e.g. "squeue --json" or "ssh head squeue --json")'),
  slurmrestdUrl: leaf(z.url().optional(), 'EASTWATCH_SLURMRESTD_URL', 'slurmrestd jobs endpoint, polled (e.g. http://slurm:6820/slurm/v0.0.41/jobs)'),
  slurmrestdUser: leaf(z.string().optional(), 'EASTWATCH_SLURMRESTD_USER', 'X-SLURM-USER-NAME for slurmrestd'),
  slurmrestdToken: leaf(z.string().optional(), 'EASTWATCH_SLURMRESTD_TOKEN', 'X-SLURM-USER-TOKEN (JWT) for slurmrestd (never logged)', true),
  kubernetesCommand: leaf(z.string().optional(), 'EASTWATCH_KUBERNETES_COMMAND', 'Command printing pods as JSON, polled (e.g. "kubectl get pods -A -o json")'),
  kubernetesApi: leaf(z.url().optional(), 'EASTWATCH_KUBERNETES_API', 'Kubernetes API server to list and watch pods from (e.g. https://kubernetes.default.svc)'),
  kubernetesTokenFile: leaf(readableFile().optional(), 'EASTWATCH_KUBERNETES_TOKEN_FILE', 'Bearer token file for the API server (in a pod: /var/run/secrets/kubernetes.io/serviceaccount/token)'),
  kubernetesCaFile: leaf(readableFile().optional(), 'EASTWATCH_KUBERNETES_CA_FILE', 'PEM CA of the API server (in a pod: /var/run/secrets/kubernetes.io/serviceaccount/ca.crt)'),
  kubernetesLabelSelector: leaf(z.string().optional(), 'EASTWATCH_KUBERNETES_LABEL_SELECTOR', 'Only pods matching this label selector (e.g. training.kubeflow.org/job-name)'),
  pollSec: leaf(z.number().int().min(1).max(3600).default(15), 'EASTWATCH_ALLOCATIONS_POLL_SEC', 'Seconds between polls of the Slurm and Kubernetes sources'),
}).superRefine((a, ctx) => {
  for (const f of ['slurmrestdUser', 'slurmrestdToken'] as const) requires(ctx, a, f, a.slurmrestdUrl !== undefined, 'is set but EASTWATCH_SLURMRESTD_URL is not');
  for (const f of ['kubernetesTokenFile', 'kubernetesCaFile', 'kubernetesLabelSelector'] as const) {
    requires(ctx, a, f, a.kubernetesApi !== undefined, 'is set but EASTWATCH_KUBERNETES_API is not');
  }
  requires(ctx, a, 'kubernetesCaFile', a.kubernetesApi?.startsWith('https://') === true, 'is only used with an https:// EASTWATCH_KUBERNETES_API');
});

export type AllocationSourcesConfig = z.infer<typeof AllocationSourcesConfigSchema>;
