/**
 * Pods from the Kubernetes API server, kept current by list + watch (the informer pattern) instead of listing
 * the whole cluster every poll: list once, then follow `watch` from its resourceVersion; a 410 Gone (history
 * compacted) or a dropped stream relists. The poller (poller.ts) reads the live pod set as a document each
 * interval and publishes the jobs that changed.
 *
 * Written on node:https rather than @kubernetes/client-node: that client is ESM-only since 1.0 (this project
 * is CommonJS on Node 20), and list + watch of one resource is two GET requests and a line splitter.
 * A deleted pod that had not terminated is kept as ended at its deletion (for retentionMs) so its job's end
 * is published.
 */
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { Logger } from '../core/log';
import type { DocumentSource } from './poller';

export interface KubeApiOptions {
  /** API server base URL, e.g. https://kubernetes.default.svc */
  url: string;
  /** Bearer token file, read for every request (projected tokens rotate). */
  tokenFile?: string;
  caFile?: string;
  labelSelector?: string;
  retentionMs?: number;
}

type Pod = { metadata?: { uid?: string; resourceVersion?: string; deletionTimestamp?: string }; status?: { phase?: string; containerStatuses?: unknown[] } } & Record<string, unknown>;
interface WatchEvent { type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR'; object: Pod & { code?: number } }

class Gone extends Error {}

export class KubePodWatch {
  private readonly pods = new Map<string, Pod>();
  private readonly ended = new Map<string, number>();
  private resourceVersion = '';
  private stopped = false;
  private current: http.ClientRequest | undefined;
  private readonly done: Promise<void>;

  constructor(private readonly opts: KubeApiOptions, private readonly log: Logger) {
    this.done = this.run();
  }

  /** The pods as a `kubectl get pods -o json` List. */
  readonly source: DocumentSource = async () => {
    const cutoff = Date.now() - (this.opts.retentionMs ?? 3600e3);
    for (const [uid, at] of this.ended) {
      if (at < cutoff) {
        this.ended.delete(uid);
        this.pods.delete(uid);
      }
    }
    return { apiVersion: 'v1', kind: 'List', items: [...this.pods.values()] };
  };

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      try {
        if (!this.resourceVersion) await this.list();
        await this.watch();
        failures = 0;
      } catch (e) {
        if (this.stopped) return;
        if (e instanceof Gone) this.resourceVersion = '';
        else failures++;
        this.log.warn({ err: (e as Error).message, url: this.opts.url }, 'kubernetes pod watch interrupted; resuming');
        await new Promise((r) => setTimeout(r, Math.min(30_000, 500 * 2 ** Math.min(failures, 6))));
      }
    }
  }

  private query(extra: Record<string, string>): string {
    const q = new URLSearchParams(extra);
    if (this.opts.labelSelector) q.set('labelSelector', this.opts.labelSelector);
    return `/api/v1/pods?${q.toString()}`;
  }

  private async list(): Promise<void> {
    let body = '';
    await this.get(this.query({}), (chunk) => (body += chunk));
    const list = JSON.parse(body) as { metadata?: { resourceVersion?: string }; items?: Pod[] };
    const seen = new Set<string>();
    for (const pod of list.items ?? []) {
      const uid = pod.metadata?.uid;
      if (!uid) continue;
      seen.add(uid);
      this.pods.set(uid, pod);
      this.ended.delete(uid);
    }
    // Pods gone while the watch was down ended then.
    for (const uid of this.pods.keys()) if (!seen.has(uid)) this.markEnded(uid);
    this.resourceVersion = list.metadata?.resourceVersion ?? '';
  }

  private async watch(): Promise<void> {
    let partial = '';
    await this.get(this.query({ watch: '1', allowWatchBookmarks: 'true', resourceVersion: this.resourceVersion }), (chunk) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop()!;
      for (const line of lines) if (line.trim() !== '') this.apply(JSON.parse(line) as WatchEvent);
    });
  }

  private apply(e: WatchEvent): void {
    if (e.type === 'ERROR') {
      if (e.object.code === 410) throw new Gone('resourceVersion too old');
      throw new Error(`watch error ${e.object.code ?? ''}`);
    }
    if (e.object.metadata?.resourceVersion) this.resourceVersion = e.object.metadata.resourceVersion;
    const uid = e.object.metadata?.uid;
    if (e.type === 'BOOKMARK' || !uid) return;
    if (e.type === 'DELETED') {
      this.pods.set(uid, e.object);
      this.markEnded(uid);
    } else {
      this.pods.set(uid, e.object);
    }
  }

  /** A pod deleted before it terminated ended at its deletion: record that as a terminated container. */
  private markEnded(uid: string): void {
    const pod = this.pods.get(uid);
    if (!pod || this.ended.has(uid)) return;
    const now = Date.now();
    this.ended.set(uid, now);
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') return;
    const finishedAt = pod.metadata?.deletionTimestamp ?? new Date(now).toISOString();
    this.pods.set(uid, { ...pod, status: { ...pod.status, phase: 'Failed', containerStatuses: [{ name: 'deleted', state: { terminated: { exitCode: 137, finishedAt } } }] } });
  }

  private get(path: string, onChunk: (chunk: string) => void): Promise<void> {
    const url = new URL(path, this.opts.url);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.opts.tokenFile) headers.authorization = `Bearer ${readFileSync(this.opts.tokenFile, 'utf8').trim()}`;
    const lib = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = lib.get(url, { headers, ...(this.opts.caFile ? { ca: readFileSync(this.opts.caFile) } : {}) }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(res.statusCode === 410 ? new Gone('410 Gone') : new Error(`${url.pathname}: HTTP ${res.statusCode}`));
          return;
        }
        res.setEncoding('utf8');
        let failed = false;
        res.on('data', (chunk: string) => {
          if (failed) return;
          try {
            onChunk(chunk);
          } catch (e) {
            failed = true; // a watch ERROR event or a bad line: settle now, drop the rest of the stream
            reject(e as Error);
            res.destroy();
          }
        });
        res.on('end', () => resolve());
        res.on('error', reject);
        res.on('close', () => resolve()); // destroyed by stop(); a no-op when already settled
      });
      req.on('error', reject);
      this.current = req;
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.current?.destroy();
    await this.done;
  }
}
