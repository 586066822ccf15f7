/**
 * A SOC queue for the API tests: alerts as the detectors would raise them, produced to a test environment's
 * alerts topic for its writer to store. 200 new destinations of one node (one group), scans from 40 nodes,
 * alerts outside an allocation and zone crossings; many share a time, so paging must break ties.
 */
import { alertIdOf, fingerprintOf } from '../alerts/lifecycle';
import { encodeAlert } from '../alerts/stream';
import { loadConfig } from '../app/config';
import { topicNames } from '../core/topics';
import type { Flow } from '../core/flow';
import type { Alert } from '../core/records';
import { flow } from './detector-fixtures';
import { TestEnv, testKafka } from './helpers';

const MIN = 60_000;

function alert(o: Partial<Alert> & Pick<Alert, 'detector' | 'severity' | 'time' | 'summary'>, key: string[]): Alert {
  const fingerprint = fingerprintOf(o.detector, key);
  return {
    alert_id: alertIdOf(fingerprint, o.time - MIN), fingerprint, state: 'firing', first_seen: o.time - MIN, last_seen: o.time, raised_at: o.time + 2000,
    bytes: 0, flows: 1, evidence: JSON.stringify({ top_flows: [], details: {}, where: '', sql: '' }), updated_at: o.time + 2000, ...o,
  };
}

/** The queue, from `t0` on (times within its next 2 hours). */
export function socQueue(t0: number): Alert[] {
  const out: Alert[] = [];
  for (let i = 0; i < 200; i++) {
    const dst = `203.0.113.${i + 1}`;
    out.push(alert({
      detector: 'new-destination', severity: 'critical', time: t0 + (i % 10) * MIN, summary: `gpu001 (job 88213) sent to ${dst}, never seen before`,
      src_addr: '10.30.1.1', src_node: 'gpu001', src_zone: 'training', src_job: '88213', dst_addr: dst, dst_zone: 'internet', dst_port: 443, protocol: 6, bytes: 1000 * (i + 1),
    }, ['10.30.1.1', dst]));
  }
  for (let i = 0; i < 40; i++) {
    const node = `gpu${String(i + 10).padStart(3, '0')}`;
    out.push(alert({
      detector: 'scan', severity: 'warning', time: t0 + 20 * MIN + i * MIN, summary: `${node} probed 64 hosts on tcp/22 (SSH scan)`,
      src_addr: `10.30.1.${i + 10}`, src_node: node, src_zone: 'training', src_job: `${88300 + (i % 4)}`, flows: 64, bytes: 64 * 60,
    }, [node]));
  }
  for (let i = 0; i < 30; i++) {
    const src = `gpu${String(i + 60).padStart(3, '0')}`;
    const dst = `gpu${String(i + 100).padStart(3, '0')}`;
    out.push(alert({
      detector: 'outside-allocation', severity: 'critical', time: t0 + 70 * MIN + (i % 3) * MIN, summary: `${src} (job J${i % 5}) opened SSH (tcp/22) to ${dst}, outside its allocation`,
      src_addr: `10.30.2.${i + 1}`, src_node: src, src_zone: 'training', src_job: `J${i % 5}`, dst_addr: `10.30.3.${i + 1}`, dst_node: dst, dst_zone: 'training',
      dst_job: `K${i % 2}`, dst_port: 22, protocol: 6, bytes: 5000 + i,
    }, [`J${i % 5}`, src]));
  }
  for (let i = 0; i < 10; i++) {
    out.push(alert({
      detector: 'zone-violation', severity: i < 5 ? 'critical' : 'info', time: t0 + 100 * MIN + i * MIN, summary: `inf${i} reached the weights vault on tcp/2049 (NFS), a forbidden zone crossing`,
      src_addr: `10.40.0.${i + 1}`, src_node: `inf${i}`, src_zone: 'inference', dst_addr: '10.50.0.1', dst_node: 'vault01', dst_zone: 'weights', dst_port: 2049, protocol: 6, bytes: 10 ** 6 * (i + 1),
    }, [`inf${i}`, 'weights', 'nfs']));
  }
  return out;
}

/** Produces alerts to the environment's alerts topic, as the detectors' publisher does. */
export async function produceAlerts(t: TestEnv, alerts: readonly Alert[]): Promise<void> {
  const producer = testKafka().producer();
  await producer.connect();
  try {
    const topic = topicNames(loadConfig(t.env).kafka.topicPrefix).alerts;
    await producer.send({ topic, acks: -1, messages: alerts.map((a) => ({ key: a.fingerprint, value: encodeAlert(a) })) });
  } finally {
    await producer.disconnect();
  }
}

/**
 * Flows behind some of the queue's alerts, enriched as the collectors would: inf0 reading the weights vault over
 * NFS during its alert (and once on SSH, and once two hours later: neither is that alert's), gpu001 sending to
 * twenty new destinations and to gpu002 of its own job.
 */
export function contextFlows(t0: number): Flow[] {
  const inf0 = { src_node: 'inf0', src_zone: 'inference', dst_node: 'vault01', dst_zone: 'weights' };
  const atVault = t0 + 100 * MIN;
  const gpu001 = { src_node: 'gpu001', src_zone: 'training', src_job: '88213' };
  return [
    ...[-50_000, -20_000, 0].map((d, i) => flow('10.40.0.1', '10.50.0.1', 2049, atVault + d, { ...inf0, bytes: 1_000_000 * (i + 1), src_port: 50_000 + i })),
    flow('10.40.0.1', '10.50.0.1', 22, atVault, { ...inf0, bytes: 500 }),
    flow('10.40.0.1', '10.50.0.1', 2049, atVault + 120 * MIN, { ...inf0, bytes: 700 }),
    ...Array.from({ length: 20 }, (_, i) => flow('10.30.1.1', `203.0.113.${i + 1}`, 443, t0 + i * MIN, { ...gpu001, dst_zone: 'internet', bytes: 1000 * (i + 1) })),
    ...Array.from({ length: 6 }, (_, i) => flow('10.30.1.1', '10.30.1.2', 4791, t0 + i * MIN, {
      ...gpu001, dst_node: 'gpu002', dst_zone: 'training', dst_job: '88213', protocol: 17, bytes: 1e6, sampling_rate: 10,
    })),
  ];
}
