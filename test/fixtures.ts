import type { Flow } from '../core/flow';

/** A flow with every optional field set, so the round trip covers each column. */
export const fullFlow: Flow = {
  time_received: 1764000000123, time_start: 1763999990000, time_end: 1763999999999,
  source_kind: 'hubble', exporter_address: '2001:db8::10', observation_domain: 4294967295, observation_point: 'hubble',
  src_addr: '2001:db8:1::17', dst_addr: 'fd00::53', src_port: 40000, dst_port: 53, protocol: 17,
  bytes: null, packets: null, tcp_flags: 0, sampling_rate: 1, direction: 'egress',
  in_if: 7, out_if: 4294967295, vlan: 4095, vni: 16777215, next_hop: 'fe80::1',
  src_namespace: 'ai-training', src_pod: 'trainer-0', src_workload: 'pytorchjob/llm', src_labels: { app: 'trainer', 'training.kubeflow.org/job-name': 'llm' },
  src_identity: 12345, src_names: [], src_node: 'gpu-001', src_fabric: 'frontend', src_rail: 0, src_zone: 'training', src_job: '88213',
  dst_namespace: 'kube-system', dst_pod: 'coredns-1', dst_workload: 'deployment/coredns', dst_labels: {}, dst_identity: 0,
  dst_names: ['kube-dns.kube-system.svc.cluster.local'], dst_node: 'cp-1', dst_fabric: 'frontend', dst_rail: 7, dst_zone: 'services', dst_job: '',
  verdict: 'FORWARDED', drop_reason: '', is_reply: false, l7_summary: 'DNS Query huggingface.co. A',
  proxy_host: 'huggingface.co', proxy_method: 'CONNECT', proxy_status: 200,
};
