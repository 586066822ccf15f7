/**
 * Line-oriented sources (egress-proxy access logs, Hubble flow JSON): each line through its pure parser, flows
 * to Kafka, bad lines counted per source and reason and sampled to the dead-letter topic with the line.
 */
import type { DeadLetter } from '../../core/dead-letter';
import type { Flow } from '../../core/flow';
import type { Logger } from '../../core/log';
import { recordsFailed, recordsIn } from '../../core/metrics';
import type { Stage } from '../../core/stage';
import type { LogsConfig } from '../config';
import { normalizeHubble } from '../hubble/normalize';
import { parseEnvoyLine } from '../proxy/envoy';
import { parseSquidLine } from '../proxy/squid';
import { FilePosition, followFile, Room } from './follow';
import type { PositionStore } from './positions';

export const LOG_FORMATS = ['squid', 'envoy', 'hubble'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface LogSource {
  format: LogFormat;
  path: string;
}

export interface LogCollectorOptions {
  /** exporter_address of proxy flows: the proxy's own address. */
  proxyAddress: string;
  flow(flow: Flow): void;
  deadLetter?: DeadLetter;
  log: Logger;
}

const STAGE = 'collector';

/** Handles one line; Hubble flows may also come parsed (the Relay client hands over protojson objects). */
export function lineHandler(format: LogFormat, source: string, opts: LogCollectorOptions): (line: string | object) => void {
  return (input) => {
    const now = Date.now();
    const line = typeof input === 'string' ? input : undefined;
    const r = format === 'hubble' ? (line?.trim() === '' ? {} : normalizeHubble(input, now))
      : format === 'squid' ? parseSquidLine(line ?? JSON.stringify(input), opts.proxyAddress, now)
        : parseEnvoyLine(line ?? JSON.stringify(input), opts.proxyAddress, now);
    if (r.flow) {
      opts.flow(r.flow);
      recordsIn.inc({ stage: STAGE, source: format });
    } else if (r.error) {
      recordsFailed.inc({ stage: STAGE, source, reason: r.error.reason });
      void opts.deadLetter?.send({ stage: STAGE, source, reason: r.error.reason, detail: r.error.detail, payload: Buffer.from(line ?? JSON.stringify(input)), origin: `${format}/${source}` });
    }
  };
}

export interface FollowLogsOptions extends LogCollectorOptions {
  /** Saved positions: resume there, and checkpoint once the flows before a position are durable. */
  positions?: PositionStore;
  /** Resolves once every flow handed to `flow` so far is acknowledged by Kafka. */
  durable?: () => Promise<void>;
  /** Room for flows: files pause while `flow` would drop, so a saved position never passes a dropped flow. */
  room?: Room;
  checkpointMs?: number;
  /** How long a checkpoint waits for Kafka to acknowledge the flows before the positions it would save. */
  durableWaitMs?: number;
}

/** Follows every configured log file (tail -F semantics: from a saved position or the end, across rotation). */
export function followLogs(sources: LogSource[], opts: FollowLogsOptions): { stop(): Promise<void> } {
  const followers = sources.map(({ format, path }) => {
    const resume = opts.positions?.get(path);
    opts.log.info({ format, path, ...(resume ? { resume } : {}) }, 'following log');
    const onLost = (from: FilePosition) => opts.log.warn({ path, from },
      `${path} was rotated or truncated while eastwatch was down and its old inode is not at ${path}.1: lines written to it after byte ${from.offset} are lost (how many bytes is unknown); reading ${path} from its start`);
    return [path, followFile(path, lineHandler(format, path, opts), { resume, onLost, room: opts.room }, (e) => opts.log.warn({ err: e, path }, 'log source error; retrying'))] as const;
  });
  const { positions, durable } = opts;
  if (!positions || !durable || followers.length === 0) {
    return { stop: async () => { await Promise.all(followers.map(([, f]) => f.stop())); } };
  }
  // Written only when a follower moved: an idle log costs no flush and no file write. A checkpoint waits for
  // Kafka at most durableWaitMs: during an outage positions stay where they were (lines are read again after a
  // restart, none lost), and neither the checkpoints nor a stop wait for the outage to end.
  let saved = '';
  const checkpoint = async () => {
    const at = followers.flatMap(([path, f]) => {
      const p = f.position();
      return p ? [[path, p] as [string, FilePosition]] : [];
    });
    const key = JSON.stringify(at);
    if (key === saved) return;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new NotDurable()), opts.durableWaitMs ?? 10_000)));
    try {
      await Promise.race([durable(), late]);
    } finally {
      clearTimeout(timer);
    }
    positions.save(at);
    saved = key;
  };
  const attempt = () => checkpoint().catch((e: Error) => {
    if (e instanceof NotDurable) opts.log.debug('flows not yet acknowledged by Kafka; log positions kept');
    else opts.log.warn({ err: e }, 'saving log positions failed; retried');
  });
  let busy: Promise<void> | undefined;
  const timer = setInterval(() => {
    busy ??= attempt().finally(() => (busy = undefined));
  }, opts.checkpointMs ?? 1000);
  return {
    async stop() {
      clearInterval(timer);
      await busy;
      await Promise.all(followers.map(([, f]) => f.stop()));
      await attempt();
    },
  };
}

class NotDurable extends Error {}

/** The followed files of the logs config section, as a stage: positions saved once their flows are durable. */
export class LogFollowers implements Stage {
  readonly name = 'log-followers';
  private following: { stop(): Promise<void> } | undefined;

  constructor(private readonly cfg: LogsConfig, private readonly opts: Omit<FollowLogsOptions, 'proxyAddress'>) {}

  /** Whether the config names any file to follow. */
  static configured(cfg: LogsConfig): boolean {
    return LOG_FORMATS.some((format) => cfg[format].length > 0);
  }

  async start(): Promise<void> {
    const sources = LOG_FORMATS.flatMap((format) => this.cfg[format].map((path) => ({ format, path })));
    this.following = followLogs(sources, { ...this.opts, proxyAddress: this.cfg.proxyAddress });
  }

  async stop(): Promise<void> {
    await this.following?.stop();
  }
}
