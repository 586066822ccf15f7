/**
 * Alerts exported for SIEMs: every kind of alert (both ends known, only a source, only zones, none: an
 * Alertmanager alert) is a valid OCSF 1.8 Detection Finding and a valid ECS document, with the fields a SOC
 * maps on (finding uid and title, analytic type, severity, status, endpoints, lateral direction, product).
 */
import { exportAlert, toEcs, toOcsf } from '../../alerts/export';
import type { AlertView } from '../../alerts/view';
import { ecsProblems, ocsfProblems } from '../siem-schemas';

const T = '2026-11-30T08:00:00.000Z';
const base: AlertView = {
  alert_id: '6f1c1e2a-0d1b-8a2c-9e3f-0123456789ab', fingerprint: 'f0', detector: 'outside-allocation', severity: 'critical', state: 'firing', summary: 'gpu012 (job 88213) opened SSH (tcp/22) to gpu031 (job 88214), outside its allocation; 2 flows, 200 KiB',
  bytes: 204_800, flows: 2, time: T, first_seen: T, last_seen: T, raised_at: T, updated_at: T, evidence: {}, group_id: '0123456789abcdef', status: 'open', tags: [],
  src_addr: '10.30.1.12', src_node: 'gpu012', src_zone: 'training', src_job: '88213', dst_addr: '10.30.1.31', dst_node: 'gpu031', dst_zone: 'training', dst_job: '88214', dst_port: 22, protocol: 6,
};
const only = (keep: (keyof AlertView)[]) => Object.fromEntries(Object.entries(base).filter(([k]) => !k.startsWith('src_') && !k.startsWith('dst_') && k !== 'protocol' || keep.includes(k as keyof AlertView))) as AlertView;

const ALERTS: Record<string, AlertView> = {
  lateral: base,
  egress: { ...base, detector: 'new-destination', dst_addr: '203.0.113.9', dst_node: undefined, dst_zone: 'internet', dst_job: undefined, dst_port: 443 } as AlertView,
  scanner: { ...only(['src_addr', 'src_node', 'src_zone']), detector: 'scan', severity: 'warning' },
  zones: { ...only(['src_zone', 'dst_zone']), detector: 'egress-spike' },
  external: { ...only([]), detector: 'alertmanager', severity: 'info' },
  closed: { ...base, status: 'closed', close_reason: 'true_positive', assignee: 'alice', tags: ['ir-4411'], updated_at: '2026-11-30T09:00:00.000Z' },
};

describe('SIEM exports', () => {
  it.each(Object.entries(ALERTS))('exports a %s alert as a valid OCSF Detection Finding and ECS document', (_, a) => {
    expect(ocsfProblems(toOcsf(a))).toEqual([]);
    expect(ecsProblems(exportAlert(a, 'ecs'))).toEqual([]);
  });

  it('carries what a SOC maps on', () => {
    expect(toOcsf(ALERTS.lateral!)).toMatchObject({
      class_uid: 2004, category_uid: 2, activity_id: 1, type_uid: 200401, severity_id: 5, status_id: 1, time: Date.parse(T),
      finding_info: { uid: base.alert_id, title: base.summary, analytic: { uid: 'outside-allocation', type_id: 1 } },
      evidences: [{ src_endpoint: { ip: '10.30.1.12', name: 'gpu012', zone: 'training' }, dst_endpoint: { ip: '10.30.1.31', port: 22 }, connection_info: { direction_id: 3, protocol_num: 6, protocol_name: 'tcp' } }],
      metadata: { version: '1.8.0', product: { name: 'eastwatch', version: expect.stringMatching(/^\d+\.\d+\.\d+/) } },
    });
    expect(toOcsf(ALERTS.egress!)).toMatchObject({ evidences: [{ connection_info: { direction_id: 2 } }], finding_info: { analytic: { type_id: 2 } } });
    expect(toOcsf(ALERTS.closed!)).toMatchObject({ activity_id: 3, type_uid: 200403, status_id: 4, unmapped: { eastwatch: { close_reason: 'true_positive', assignee: 'alice' } } });
    expect(toOcsf(ALERTS.external!).evidences).toBeUndefined();
    expect(toEcs(ALERTS.lateral!)).toMatchObject({
      '@timestamp': T, ecs: { version: expect.stringMatching(/^\d+\.\d+/) }, event: { kind: 'alert', id: base.alert_id, severity: 99 },
      rule: { id: 'outside-allocation', category: 'Rule' }, source: { ip: '10.30.1.12', address: 'gpu012' }, destination: { ip: '10.30.1.31', port: 22 },
      network: { direction: 'internal', transport: 'tcp', iana_number: '6', bytes: 204_800 },
    });
  });

  it('catches what the schemas forbid (the validators are not blind)', () => {
    const { finding_info: _, ...noFinding } = toOcsf(base);
    expect(ocsfProblems(noFinding)).toContain('finding_info: required, missing');
    expect(ocsfProblems({ ...toOcsf(base), severity_id: 7 })).toContain('severity_id: 7 is not one of 0, 1, 2, 3, 4, 5, 6, 99');
    expect(ocsfProblems({ ...toOcsf(base), evidences: [{ name: 'x' }] })).toEqual([expect.stringMatching(/^evidences\[0\]: needs at least one of /)]);
    expect(ecsProblems({ ...toEcs(base), event: { kind: 'incident' } } as Record<string, unknown>)).toContain('event.kind: "incident" is not an allowed value');
    expect(ecsProblems({ ...toEcs(base), source: { ip: 'gpu012' } } as Record<string, unknown>)).toContain('source.ip: "gpu012" is not a ip');
    const { '@timestamp': _t, ...noTime } = exportAlert(base, 'ecs');
    expect(ecsProblems(noTime)).toContain('@timestamp: required, missing');
  });
});
