/**
 * The Kubernetes list + watch source against an HTTP stand-in of the API server speaking the real protocol
 * (List, then a watch stream of newline-delimited events from its resourceVersion, 410 Gone when history is
 * compacted): the live pod set follows adds, changes and deletions, relists after 410, sends the token.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { KubePodWatch } from '../../allocations/kube-watch';
import { parseKubernetesPods } from '../../allocations/kubernetes';
import { createLogger } from '../../core/log';
import { KUBECTL_PODS } from '../allocation-fixtures';
import { until } from '../until';

type Pod = { metadata: { name: string; uid: string; resourceVersion?: string }; status: Record<string, unknown> };
const pods = structuredClone(KUBECTL_PODS.items) as unknown as Pod[];
const byName = (name: string) => structuredClone(pods.find((p) => p.metadata.name === name)!);
const trainer = ['trainer-88214-master-0', 'trainer-88214-worker-0', 'trainer-88214-worker-1', 'trainer-88214-worker-2'].map(byName);


describe('Kubernetes pod list + watch', () => {
  it('follows pods through adds, changes and deletions, and relists after 410 Gone', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ew-kube-'));
    const tokenFile = path.join(dir, 'token');
    writeFileSync(tokenFile, 'sa-token-1\n');
    const requests: { path: string; auth: string | undefined }[] = [];
    let lists = 0;
    let watches = 0;
    let openWatch: ServerResponse | undefined;
    const event = (res: ServerResponse, type: string, object: unknown) => res.write(`${JSON.stringify({ type, object })}\n`);
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      requests.push({ path: req.url!, auth: req.headers.authorization });
      const url = new URL(req.url!, 'http://x');
      res.writeHead(200, { 'content-type': 'application/json' });
      if (url.searchParams.get('watch') !== '1') {
        lists++;
        // The second list (after 410) has neither worker-0 (deleted before) nor worker-2 (went away while the watch
        // was broken) nor the new job's pod (also gone meanwhile).
        const items = lists === 1 ? trainer : [trainer[0], trainer[2]];
        res.end(JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: String(100 * lists) }, items }));
        return;
      }
      watches++;
      if (watches === 1) {
        // A new job's pod appears, worker-0 is deleted while running, then the stream ends (server timeout).
        const nccl = { ...byName('nccl-alltoall-worker-0'), metadata: { ...byName('nccl-alltoall-worker-0').metadata, resourceVersion: '101' } };
        event(res, 'ADDED', nccl);
        event(res, 'DELETED', { ...trainer[1], metadata: { ...trainer[1]!.metadata, resourceVersion: '102', deletionTimestamp: '2025-11-24T17:30:00Z' } });
        event(res, 'BOOKMARK', { kind: 'Pod', metadata: { resourceVersion: '105' } });
        res.end();
      } else if (watches === 2) {
        event(res, 'ERROR', { kind: 'Status', code: 410, reason: 'Expired' });
        res.end();
      } else {
        openWatch = res; // stays open, like a healthy watch
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const t0 = Date.now();
    const watch = new KubePodWatch({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, tokenFile, labelSelector: 'training.kubeflow.org/job-name' }, createLogger('fatal'));
    try {
      await until(() => watches >= 3);
      const { events } = parseKubernetesPods(await watch.source(), Date.now());
      const jobs = Object.fromEntries(events.map((e) => [e.job_id, e]));
      expect(Object.keys(jobs).sort()).toEqual(['ai-bench/nccl-alltoall', 'ai-training/trainer-88214']);
      // worker-0 ended at its deletion, worker-2 when the relist no longer had it; master and worker-1 run on;
      // the new job's pod vanished during the broken watch, so its job has ended.
      expect(jobs['ai-training/trainer-88214']!.end).toBeUndefined();
      expect(jobs['ai-bench/nccl-alltoall']!.end).toBeGreaterThanOrEqual(t0);
      expect((jobs['ai-training/trainer-88214']!.pods ?? []).map((p) => p.name).sort()).toEqual(trainer.map((p) => p.metadata.name).sort());
      expect(requests.map((r) => {
        const u = new URL(r.path, 'http://x');
        return `${u.searchParams.get('watch') ?? 'list'}:${u.searchParams.get('resourceVersion') ?? ''}:${u.searchParams.get('labelSelector')}`;
      })).toEqual([
        'list::training.kubeflow.org/job-name',
        '1:100:training.kubeflow.org/job-name',
        '1:105:training.kubeflow.org/job-name',
        'list::training.kubeflow.org/job-name',
        '1:200:training.kubeflow.org/job-name',
      ]);
      expect(requests.every((r) => r.auth === 'Bearer sa-token-1')).toBe(true);

      // Every pod of the job deleted: the job has ended, at its pods' latest end (worker-2's, taken at the relist).
      for (const p of [trainer[0]!, trainer[2]!]) {
        openWatch!.write(`${JSON.stringify({ type: 'DELETED', object: { ...p, metadata: { ...p.metadata, resourceVersion: '201', deletionTimestamp: '2025-11-24T18:00:00Z' } } })}\n`);
      }
      await until(async () => parseKubernetesPods(await watch.source(), Date.now()).events.some((e) => e.job_id === 'ai-training/trainer-88214' && e.end !== undefined));
      const ended = parseKubernetesPods(await watch.source(), Date.now()).events.find((e) => e.job_id === 'ai-training/trainer-88214')!;
      expect(ended.end).toBeGreaterThanOrEqual(t0);
      expect(ended.end).toBeLessThanOrEqual(Date.now());
    } finally {
      await watch.stop();
      server.closeAllConnections();
      server.close();
    }
  });
});
