/**
 * Line-oriented sources (egress-proxy access logs, Hubble flow JSON): each line through its pure parser, flows
 * to Kafka, bad lines counted per source and reason and sampled to the dead-letter topic with the line.
 */
import type { DeadLetter } from '../../core/dead-letter';
import type { Flow } from '../../core/flow';
import type { Logger } from '../../core/log';
import { recordsFailed, recordsIn } from '../../core/metrics';
import { normalizeHubble } from '../hubble/normalize';
import { parseEnvoyLine } from '../proxy/envoy';
import { parseSquidLine } from '../proxy/squid';
import { followFile, Follower } from './follow';

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

/** Follows every configured log file (tail -F semantics: from its end, across rotation). */
export function followLogs(sources: LogSource[], opts: LogCollectorOptions): Follower[] {
  return sources.map(({ format, path }) => {
    opts.log.info({ format, path }, 'following log');
    return followFile(path, lineHandler(format, path, opts), {}, (e) => opts.log.warn({ err: e, path }, 'log source error; retrying'));
  });
}
