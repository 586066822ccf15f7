/** The configured scheduler pollers (Slurm by command or slurmrestd, Kubernetes by command), sharing one publisher. */
import type { Kafka } from 'kafkajs';
import type { Config } from '../core/config';
import type { Logger } from '../core/log';
import { parseKubernetesPods } from './kubernetes';
import { AllocationPoller, commandSource, httpSource } from './poller';
import { AllocationPublisher } from './publish';
import { parseSlurmJobs } from './slurm';

export async function startAllocationSources(kafka: Kafka, cfg: Config, log: Logger): Promise<() => Promise<void>> {
  const a = cfg.allocations;
  const sources = [
    ...(a.slurmCommand ? [['slurm-command', commandSource(a.slurmCommand), parseSlurmJobs] as const] : []),
    ...(a.slurmrestdUrl ? [['slurmrestd', httpSource(a.slurmrestdUrl, {
      ...(a.slurmrestdUser ? { 'X-SLURM-USER-NAME': a.slurmrestdUser } : {}),
      ...(a.slurmrestdToken ? { 'X-SLURM-USER-TOKEN': a.slurmrestdToken } : {}),
    }), parseSlurmJobs] as const] : []),
    ...(a.kubernetesCommand ? [['kubernetes-command', commandSource(a.kubernetesCommand), parseKubernetesPods] as const] : []),
  ];
  if (sources.length === 0) return async () => undefined;
  const publisher = new AllocationPublisher(kafka, cfg);
  await publisher.connect();
  const pollers = sources.map(([name, source, parse]) => new AllocationPoller(name, source, (d, now) => parse(d, now), publisher, a.pollSec * 1000, log));
  for (const p of pollers) p.start();
  log.info({ sources: pollers.map((p) => p.name) }, 'polling allocation sources');
  return async () => {
    await Promise.all(pollers.map((p) => p.stop()));
    await publisher.disconnect();
  };
}
