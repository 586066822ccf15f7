/** The configured scheduler pollers (Slurm by command or slurmrestd, Kubernetes by command or list + watch), sharing one publisher. */
import type { Kafka } from 'kafkajs';
import type { Config } from '../core/config';
import type { Logger } from '../core/log';
import { parseKubernetesPods } from './kubernetes';
import { KubePodWatch } from './kube-watch';
import { AllocationPoller, commandSource, DocumentSource, httpSource } from './poller';
import { AllocationPublisher } from './publish';
import type { AllocationImport } from './event';
import { parseSlurmJobs } from './slurm';

export async function startAllocationSources(kafka: Kafka, cfg: Config, log: Logger): Promise<() => Promise<void>> {
  const a = cfg.allocations;
  const sources: (readonly [string, DocumentSource, (doc: unknown, now: number) => AllocationImport])[] = [
    ...(a.slurmCommand ? [['slurm-command', commandSource(a.slurmCommand), parseSlurmJobs] as const] : []),
    ...(a.slurmrestdUrl ? [['slurmrestd', httpSource(a.slurmrestdUrl, {
      ...(a.slurmrestdUser ? { 'X-SLURM-USER-NAME': a.slurmrestdUser } : {}),
      ...(a.slurmrestdToken ? { 'X-SLURM-USER-TOKEN': a.slurmrestdToken } : {}),
    }), parseSlurmJobs] as const] : []),
    ...(a.kubernetesCommand ? [['kubernetes-command', commandSource(a.kubernetesCommand), parseKubernetesPods] as const] : []),
  ];
  const watch = a.kubernetesApi ? new KubePodWatch({
    url: a.kubernetesApi,
    ...(a.kubernetesTokenFile ? { tokenFile: a.kubernetesTokenFile } : {}),
    ...(a.kubernetesCaFile ? { caFile: a.kubernetesCaFile } : {}),
    ...(a.kubernetesLabelSelector ? { labelSelector: a.kubernetesLabelSelector } : {}),
  }, log) : undefined;
  if (watch) sources.push(['kubernetes-api', watch.source, parseKubernetesPods] as const);
  if (sources.length === 0) return async () => undefined;
  const publisher = new AllocationPublisher(kafka, cfg);
  await publisher.connect();
  const pollers = sources.map(([name, source, parse]) => new AllocationPoller(name, source, (d, now) => parse(d, now), publisher, a.pollSec * 1000, log));
  for (const p of pollers) p.start();
  log.info({ sources: pollers.map((p) => p.name) }, 'polling allocation sources');
  return async () => {
    await Promise.all(pollers.map((p) => p.stop()));
    await watch?.stop();
    await publisher.disconnect();
  };
}
