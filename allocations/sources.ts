/**
 * The `allocations` role: the configured scheduler pollers (Slurm by command or slurmrestd, Kubernetes by
 * command or list + watch) sharing one publisher. Meant to run once per cluster: every instance publishes what
 * it sees, and N instances would publish every event N times and load the API server N times.
 */
import type { KafkaContext } from '../core/kafka';
import type { Logger } from '../core/log';
import type { Stage } from '../core/stage';
import type { AllocationSourcesConfig } from './config';
import type { AllocationImport } from './event';
import { parseKubernetesPods } from './kubernetes';
import { KubePodWatch } from './kube-watch';
import { AllocationPoller, commandSource, DocumentSource, httpSource } from './poller';
import { AllocationPublisher } from './publish';
import { parseSlurmJobs } from './slurm';

type Source = readonly [string, DocumentSource, (doc: unknown, now: number) => AllocationImport];

export class AllocationSources implements Stage {
  readonly name = 'allocation-sources';
  private readonly publisher: AllocationPublisher;
  private readonly watch: KubePodWatch | undefined;
  private readonly sources: Source[];
  private pollers: AllocationPoller[] = [];

  constructor(private readonly cfg: AllocationSourcesConfig, kafka: KafkaContext, private readonly log: Logger) {
    this.watch = cfg.kubernetesApi ? new KubePodWatch({
      url: cfg.kubernetesApi,
      ...(cfg.kubernetesTokenFile ? { tokenFile: cfg.kubernetesTokenFile } : {}),
      ...(cfg.kubernetesCaFile ? { caFile: cfg.kubernetesCaFile } : {}),
      ...(cfg.kubernetesLabelSelector ? { labelSelector: cfg.kubernetesLabelSelector } : {}),
    }, log) : undefined;
    this.sources = [
      ...(cfg.slurmCommand ? [['slurm-command', commandSource(cfg.slurmCommand), parseSlurmJobs] as const] : []),
      ...(cfg.slurmrestdUrl ? [['slurmrestd', httpSource(cfg.slurmrestdUrl, {
        ...(cfg.slurmrestdUser ? { 'X-SLURM-USER-NAME': cfg.slurmrestdUser } : {}),
        ...(cfg.slurmrestdToken ? { 'X-SLURM-USER-TOKEN': cfg.slurmrestdToken } : {}),
      }), parseSlurmJobs] as const] : []),
      ...(cfg.kubernetesCommand ? [['kubernetes-command', commandSource(cfg.kubernetesCommand), parseKubernetesPods] as const] : []),
      ...(this.watch ? [['kubernetes-api', this.watch.source, parseKubernetesPods] as const] : []),
    ];
    this.publisher = new AllocationPublisher(kafka);
  }

  async start(): Promise<void> {
    if (this.sources.length === 0) {
      this.log.info('no allocation source configured (EASTWATCH_SLURM_*, EASTWATCH_KUBERNETES_*): allocations come from scheduler hooks and the CLI only');
      return;
    }
    await this.publisher.connect();
    this.pollers = this.sources.map(([name, source, parse]) => new AllocationPoller(name, source, (d, now) => parse(d, now), this.publisher, this.cfg.pollSec * 1000, this.log));
    for (const p of this.pollers) p.start();
    this.log.info({ sources: this.pollers.map((p) => p.name) }, 'polling allocation sources');
  }

  async stop(): Promise<void> {
    await Promise.all(this.pollers.map((p) => p.stop()));
    await this.watch?.stop();
    if (this.pollers.length > 0) await this.publisher.disconnect();
  }
}
