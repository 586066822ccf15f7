/**
 * `eastwatch allocations`: push allocation events (one by hand, or a Slurm / Kubernetes / JSON-lines document)
 * to the allocations topic, and list what ClickHouse holds. Events take the same path as the pollers' and
 * the scheduler hooks': the writer stores them, every collector's enrichment follows them.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Config } from '../app/config';
import { ensureTopics, kafkaContext } from '../core/kafka';
import { createLogger } from '../core/log';
import { PATTERNS } from '../core/records';
import { AllocationDocumentError, type AllocationEventInput } from '../allocations/event';
import { parseKubernetesPods } from '../allocations/kubernetes';
import { parseNcclLog } from '../allocations/nccl';
import { AllocationEventError, AllocationPublisher, validateEvents } from '../allocations/publish';
import { parseSlurmJobs } from '../allocations/slurm';
import { withStore } from './store';
import { time } from './time';

function readDoc(file: string): string {
  try {
    return readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (e) {
    throw new AllocationDocumentError(`${file}: ${(e as Error).message}`);
  }
}

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new AllocationDocumentError(`${file}: not JSON: ${(e as Error).message.replace(/\s+/g, ' ')}`);
  }
}

/** Validates every event, then publishes them: a bad document never reaches Kafka, nor waits for it. */
async function publish(cfg: Config, inputs: AllocationEventInput[]): Promise<number> {
  const events = validateEvents(inputs);
  const log = createLogger(cfg.logLevel === 'info' ? 'warn' : cfg.logLevel);
  const kafka = kafkaContext(cfg.kafka, log);
  await ensureTopics(kafka, log);
  const publisher = new AllocationPublisher(kafka);
  await publisher.connect();
  try {
    return await publisher.publish(events);
  } finally {
    await publisher.disconnect();
  }
}

export function registerAllocations(program: Command, config: () => Config): void {
  const cmd = program.command('allocations').description('which nodes and pods belonged to which job, when');

  cmd.command('add')
    .description('publish one allocation: a job held these nodes (or pods) from start, until end when given')
    .requiredOption('--job <id>', 'job id')
    .option('--nodes <hostlist>', 'Slurm hostlist, e.g. gpu[001-016,020]')
    .option('--pods <json>', 'JSON array of {name, node, ip}')
    .requiredOption('--start <time>', 'start: ms since the epoch or ISO 8601', time)
    .option('--end <time>', 'end: ms since the epoch or ISO 8601', time)
    .option('--pattern <pattern>', `expected communication pattern: ${PATTERNS.join(', ')}`, 'unknown')
    .action(async (o: { job: string; nodes?: string; pods?: string; start: number; end?: number; pattern: string }) => {
      const event = {
        job_id: o.job, start: o.start, pattern: o.pattern, source: 'cli',
        ...(o.nodes ? { nodes: o.nodes } : {}),
        ...(o.pods ? { pods: parseJson(o.pods, '--pods') } : {}),
        ...(o.end !== undefined ? { end: o.end } : {}),
      } as AllocationEventInput;
      console.log(JSON.stringify({ published: await publish(config(), [event]) }));
    });

  cmd.command('import')
    .description('publish the allocations in a Slurm or Kubernetes document, or in JSON lines of events')
    .argument('<file>', 'document ("-" for stdin)')
    .requiredOption('--format <format>', 'slurm (squeue/scontrol/sacct --json, slurmrestd), kubernetes (kubectl get pods -o json), events (JSON lines), nccl (a job\'s NCCL_DEBUG=INFO log: its nodes and expected collective graph)')
    .option('--job <id>', 'nccl: the job the log is of')
    .option('--start <time>', 'nccl: the job\'s start', time)
    .option('--pattern <pattern>', `nccl: the job's pattern: ${PATTERNS.join(', ')}`, 'unknown')
    .action(async (file: string, o: { format: string; job?: string; start?: number; pattern: string }) => {
      const text = readDoc(file);
      let events: AllocationEventInput[];
      let skipped: unknown[] = [];
      if (o.format === 'nccl') {
        if (o.job === undefined || o.start === undefined) throw new AllocationEventError('--format nccl needs --job and --start: the log says who talks to whom, not which job or since when');
        const graph = parseNcclLog(text);
        events = [{ job_id: o.job, nodes: graph.nodes, peers: graph.peers, start: o.start, pattern: o.pattern as AllocationEventInput['pattern'], source: 'nccl' }];
        skipped = graph.unplaced > 0 ? [{ id: 'connections', reason: `unplaced: ${graph.unplaced} of ${graph.connections} network connections name a rank no line places on a host` }] : [];
      } else if (o.format === 'events') {
        events = text.split('\n').filter((l) => l.trim() !== '').map((l, i) => parseJson(l, `${file}:${i + 1}`) as AllocationEventInput);
      } else if (o.format === 'slurm' || o.format === 'kubernetes') {
        const parse = o.format === 'slurm' ? parseSlurmJobs : parseKubernetesPods;
        const doc = parse(parseJson(text, file), Date.now());
        const malformed = doc.skipped.filter((x) => x.reason.startsWith('malformed'));
        if (doc.events.length === 0 && malformed.length > 0) {
          throw new AllocationDocumentError(`${file}: no ${o.format} allocation could be read: ${malformed.slice(0, 3).map((x) => `${x.id}: ${x.reason}`).join('; ')}`);
        }
        ({ events, skipped } = doc);
      } else {
        throw new AllocationEventError(`unknown format ${o.format}: slurm, kubernetes, events or nccl`);
      }
      console.log(JSON.stringify({ published: await publish(config(), events), skipped }));
    });

  cmd.command('list')
    .description('allocations stored in ClickHouse, optionally of one node or job, or in force at a time')
    .option('--node <name>')
    .option('--job <id>')
    .option('--at <time>', 'only allocations in force at this time', time)
    .action(async (o: { node?: string; job?: string; at?: number }) => {
      await withStore(config(), async (store) => {
        const where = [
          ...(o.node ? ['node = {node:String}'] : []),
          ...(o.job ? ['job_id = {job:String}'] : []),
          ...(o.at !== undefined ? ['start <= fromUnixTimestamp64Milli({at:Int64})', '(end IS NULL OR end > fromUnixTimestamp64Milli({at:Int64}))'] : []),
        ];
        const rs = await store.client.query({
          query: `SELECT job_id, node, pod, pod_ip, toUnixTimestamp64Milli(start) AS start_ms, toUnixTimestamp64Milli(end) AS end_ms, pattern, source
            FROM ${store.tbl('allocations')} FINAL ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY start, job_id, node, pod`,
          query_params: { node: o.node, job: o.job, at: o.at },
          format: 'JSONEachRow',
        });
        for (const row of await rs.json()) console.log(JSON.stringify(row));
      });
    });
}
