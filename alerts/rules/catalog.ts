/**
 * Every Prometheus alert eastwatch ships, with its runbook: one definition from which the rules file, the
 * Kubernetes PrometheusRule and docs/runbooks/ are generated (render.ts, `npm run gen:monitoring`). Detector
 * alerts come from the detector registry, one per detector, firing while the detector holds firing alerts;
 * pipeline-health alerts watch eastwatch itself; the seed's two rules stand as written in a group of their own,
 * beside the same volume rule on eastwatch's own egress series.
 */
import { DETECTORS, type DetectorInfo } from '../../detectors/registry';
import { SEVERITIES } from '../../core/records';

export type RuleSeverity = (typeof SEVERITIES)[number];

export interface Runbook {
  /** What the alert means, a paragraph. */
  meaning: string;
  /** What an analyst or operator does, in order. */
  triage: string[];
  /** The ClickHouse query (or command) that shows the evidence. */
  evidence: string;
  /** How to silence it, and when not to. */
  silence: string;
}

export interface AlertRule {
  alert: string;
  group: 'eastwatch-detectors' | 'eastwatch-pipeline' | 'seed-comparison';
  expr: string;
  /** Prometheus duration; absent: fires on the first evaluation that matches. */
  for?: string;
  /** Static severity label; absent when the series carries it (a detector's alerts have their own). */
  severity?: RuleSeverity;
  summary: string;
  description: string;
  runbook: Runbook;
}

/** Where the runbooks are published: the repository's docs/runbooks/ (regenerate with another base to host them elsewhere). */
export const RUNBOOK_BASE = 'https://github.com/eastwatch/eastwatch/blob/main/docs/runbooks';

export const runbookUrl = (alert: string, base = RUNBOOK_BASE) => `${base}/${alert}.md`;

/** "outside-allocation" -> "OutsideAllocation" */
const camel = (name: string) => name.split('-').map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');

export const detectorAlertName = (d: string) => `Eastwatch${camel(d)}`;

/** What an analyst does first for each detector's alerts, beyond the steps every detector shares. */
const DETECTOR_TRIAGE: Record<DetectorInfo['name'], string[]> = {
  'outside-allocation': [
    'Check the source job and the peer in the alert: is the peer a shared service the inventory does not list yet (add it to `services`), or a node of another job?',
    'A job member reaching into another job over SSH or an admin port is lateral movement until shown otherwise: isolate the source node (drain it in Slurm, cordon it in Kubernetes) and preserve its disk.',
  ],
  'topology-mismatch': [
    "Compare the alert's expected edges with the observed ones: a rail crossing (NIC i to NIC j) or a peer outside the collective's pattern.",
    "A job whose pattern changed on purpose (a new parallelism layout) is relearned when it restarts; import NCCL's graph (`eastwatch allocations import --format nccl`) to state it.",
    'A node sending far more than its peers while the job runs is a candidate for exfiltration over the back-end fabric: check where its traffic goes next.',
  ],
  'egress-spike': [
    'Look at the destination: an approved host missing from `egress.approved` in the inventory, or an unknown one?',
    'For a new destination, read the bytes and the time span: a slow drip over hours is the exfiltration pattern no per-minute threshold catches.',
    'Ask the job owner; if unexplained, block the destination at the proxy and keep the proxy logs.',
  ],
  'seed-egress-volume': [
    "This is the seed's volume rule, kept for comparison with egress-spike: check whether egress-spike alerted on the same source; if not, the volume is most likely an approved upload.",
  ],
  'zone-violation': [
    "Read the source zone, destination zone and service: the inventory's zone matrix does not allow this pair.",
    'Into the BMC/out-of-band network or a sensitive zone, or egress around the proxy: treat as an incident; otherwise check whether the matrix misses a legitimate rule.',
  ],
  'policy-denied': [
    'Hubble or the proxy refused the connection, so nothing left: the question is why the pod tried. Read the destination and the pod.',
    'Repeated attempts to many destinations are reconnaissance or a misconfigured job; one destination repeatedly is often a job missing an egress rule.',
  ],
  scan: [
    'Read the targets list in the evidence: hosts outside the source\'s job, or many ports of one host.',
    'A scanning training node is compromised until shown otherwise: isolate it and check what else it reached (`eastwatch alerts list --json` filtered on the node).',
  ],
  'new-destination': [
    'A node of a sensitive zone (the weights enclave) sent to a destination it never sent to: check the destination and the volume.',
    'Weights leaving the enclave for a training node or the internet is the exfiltration this detector exists for: stop the transfer, then investigate.',
  ],
};

const SHARED_TRIAGE = (d: string) => [
  `List the open alerts: \`eastwatch alerts list --detector ${d} --status open\`; open one with \`eastwatch alerts show ALERT_ID\` for its summary, entities and evidence.`,
  'Run the evidence SQL printed by `alerts show` to pull every flow behind the alert.',
];

const SILENCE_DETECTOR = (alert: string, d: string) =>
  `In Alertmanager: \`amtool silence add alertname=${alert} detector=${d} --duration 2h --comment "why"\` (this mutes the notification only). `
  + "In eastwatch, acknowledge or close the alert (`eastwatch alerts status ALERT_ID closed`); closing does not suppress the next episode. Do not silence a detector for longer than the investigation: a new episode is a new alert.";

function detectorRule(d: DetectorInfo): AlertRule {
  const alert = detectorAlertName(d.name);
  return {
    alert,
    group: d.comparison ? 'seed-comparison' : 'eastwatch-detectors',
    expr: `max by (detector, severity) (eastwatch_alerts_firing{detector="${d.name}"}) > 0`,
    summary: `eastwatch's ${d.name} detector has firing alerts.`,
    description: `{{ $value }} {{ $labels.severity }} ${d.name} alert(s) firing in eastwatch: ${d.description}.`,
    runbook: {
      meaning: `The ${d.name} detector (${d.kind === 'both' ? 'streaming and windowed' : d.kind}) flags ${d.description}. `
        + 'Each episode is one alert in eastwatch, with a fingerprint, evidence and triage status; this Prometheus alert fires while any of them is firing '
        + '(an episode ends after 15 minutes without a new finding) and carries the severity of the alerts behind it.',
      triage: [...SHARED_TRIAGE(d.name), ...DETECTOR_TRIAGE[d.name]],
      evidence: `SELECT alert_id, severity, first_seen, last_seen, summary, JSONExtractString(evidence, 'sql') AS flows_query\nFROM eastwatch.alerts FINAL\nWHERE detector = '${d.name}' AND state = 'firing'\nORDER BY last_seen DESC\nLIMIT 50`,
      silence: SILENCE_DETECTOR(alert, d.name),
    },
  };
}

const SILENCE_PIPELINE = (alert: string) =>
  `\`amtool silence add alertname=${alert} instance=HOST:PORT --duration 1h --comment "why"\` while the cause is being fixed; a silenced pipeline alert hides blind spots, so keep it short.`;

const PIPELINE: AlertRule[] = [
  {
    alert: 'EastwatchDown', group: 'eastwatch-pipeline', expr: 'up{job="eastwatch"} == 0', for: '5m', severity: 'critical',
    summary: 'An eastwatch process cannot be scraped.',
    description: 'Prometheus has not scraped eastwatch at {{ $labels.instance }} for 5 minutes: its collectors, detectors or writer may be down.',
    runbook: {
      meaning: 'Prometheus cannot reach the metrics endpoint of an eastwatch process. While it is down, what it does (collect flows, judge them, store them) may not happen: the cluster is unwatched.',
      triage: ['Check the process (`systemctl status eastwatch`, the pod, or the container) and its last log lines.', 'Check `curl http://HOST:PORT/healthz` from the Prometheus host (firewall, TLS, port).', 'Once it is back, check EastwatchKafkaLag: it resumes from its committed offsets, nothing is lost if Kafka kept the data.'],
      evidence: 'up{job="eastwatch"}',
      silence: SILENCE_PIPELINE('EastwatchDown'),
    },
  },
  {
    alert: 'EastwatchExporterSilent', group: 'eastwatch-pipeline', for: '10m', severity: 'warning',
    expr: 'sum by (instance, protocol, exporter) (rate(eastwatch_collector_packets_total{exporter!="other"}[5m])) == 0',
    summary: 'A flow exporter stopped sending.',
    description: 'Exporter {{ $labels.exporter }} ({{ $labels.protocol }}) sent nothing to {{ $labels.instance }} for 15 minutes.',
    runbook: {
      meaning: 'A DPU or switch that exported flows has gone quiet. Its nodes are unwatched: an attacker who disabled an exporter would look exactly like this.',
      triage: ['Check the exporter (DPU or switch) is up and still configured to export to this collector.', 'Check the network path and the collector\'s allow-list (`EASTWATCH_EXPORTER_CIDRS`).', 'If a node was decommissioned, the series goes away after `EASTWATCH_EXPORTER_IDLE_SEC`.'],
      evidence: "SELECT exporter_address, max(time_received) AS last_flow FROM eastwatch.flows WHERE time_received > now() - INTERVAL 1 DAY GROUP BY exporter_address ORDER BY last_flow LIMIT 20",
      silence: SILENCE_PIPELINE('EastwatchExporterSilent'),
    },
  },
  {
    alert: 'EastwatchSequenceLoss', group: 'eastwatch-pipeline', for: '15m', severity: 'warning',
    expr: 'sum by (instance, protocol, exporter) (rate(eastwatch_collector_lost_total[5m])) > 0',
    summary: 'Flow records are lost between an exporter and eastwatch.',
    description: 'Exporter {{ $labels.exporter }} ({{ $labels.protocol }}) to {{ $labels.instance }}: {{ $value | humanize }} records (IPFIX) or packets (NetFlow v9, sFlow) lost per second, by sequence numbers.',
    runbook: {
      meaning: 'Sequence numbers of export packets skip: datagrams are dropped on the way or in the collector host\'s socket buffer. Lost flows are flows no detector sees.',
      triage: ['Check the collector host\'s UDP receive errors (`netstat -su`, `RcvbufErrors`) and CPU.', 'Raise `EASTWATCH_UDP_RCVBUF` (and `net.core.rmem_max`), or run more collector processes.', 'Check the network between exporter and collector for drops.'],
      evidence: 'sum by (exporter, protocol) (rate(eastwatch_collector_lost_total[5m]))',
      silence: SILENCE_PIPELINE('EastwatchSequenceLoss'),
    },
  },
  {
    alert: 'EastwatchRecordsDropped', group: 'eastwatch-pipeline', for: '5m', severity: 'critical',
    expr: 'sum by (instance, stage, reason) (rate(eastwatch_records_dropped_total[5m])) > 0',
    summary: 'eastwatch is dropping valid records.',
    description: 'Stage {{ $labels.stage }} on {{ $labels.instance }} drops {{ $value | humanize }} records/s ({{ $labels.reason }}).',
    runbook: {
      meaning: 'A stage gave up valid records, typically because its bounded Kafka backlog filled while Kafka was unreachable. These flows are gone.',
      triage: ['Check Kafka\'s health and the producer errors in eastwatch\'s log.', 'Raise `EASTWATCH_COLLECTOR_BACKLOG` only if memory allows; fix Kafka first.'],
      evidence: 'sum by (stage, reason) (rate(eastwatch_records_dropped_total[5m]))',
      silence: SILENCE_PIPELINE('EastwatchRecordsDropped'),
    },
  },
  {
    alert: 'EastwatchDeadLettersGrowing', group: 'eastwatch-pipeline', for: '30m', severity: 'warning',
    expr: 'sum by (instance, stage, reason) (rate(eastwatch_dead_letter_total[15m])) > 0',
    summary: 'Bad input keeps arriving.',
    description: 'Stage {{ $labels.stage }} on {{ $labels.instance }} has sent samples of bad input to the dead-letter topic for 30 minutes ({{ $labels.reason }}).',
    runbook: {
      meaning: 'Malformed packets or records keep arriving: a misconfigured exporter, a new template or log format eastwatch does not read, or someone sending junk.',
      triage: ['Read a few samples from the dead-letter topic (`kafka-console-consumer --topic PREFIX.dead-letter --property print.headers=true`): the headers name the source and the reason.', 'Fix the source\'s configuration, or file the format eastwatch should read.'],
      evidence: 'sum by (stage, reason) (rate(eastwatch_records_failed_total[15m]))',
      silence: SILENCE_PIPELINE('EastwatchDeadLettersGrowing'),
    },
  },
  {
    alert: 'EastwatchKafkaLag', group: 'eastwatch-pipeline', for: '15m', severity: 'warning',
    expr: 'sum by (instance, group, topic) (eastwatch_kafka_consumer_lag) > 1e6',
    summary: 'An eastwatch consumer falls behind Kafka.',
    description: 'Group {{ $labels.group }} on {{ $labels.instance }} is {{ $value | humanize }} messages behind on {{ $labels.topic }}.',
    runbook: {
      meaning: 'The writer or the detectors read the flows topic slower than it fills: alerts come late, and data older than the topic\'s retention would be lost.',
      triage: ['Check the CPU of the process and ClickHouse insert latency (`eastwatch_clickhouse_insert_seconds`).', 'Scale out: run more processes of the same role (one consumer group).'],
      evidence: 'sum by (group, topic) (eastwatch_kafka_consumer_lag)',
      silence: SILENCE_PIPELINE('EastwatchKafkaLag'),
    },
  },
  {
    alert: 'EastwatchInventoryStale', group: 'eastwatch-pipeline', for: '15m', severity: 'warning',
    expr: 'max by (instance) (eastwatch_inventory_stale) == 1',
    summary: 'The inventory file was rejected; an older inventory is in use.',
    description: 'eastwatch on {{ $labels.instance }} keeps an older inventory: the file on disk did not validate.',
    runbook: {
      meaning: 'The inventory file changed but did not validate, so eastwatch goes on with the previous one: new nodes, zones or services are unknown to it, and detectors judge by stale facts.',
      triage: ['Run `eastwatch inventory check FILE`: it names each problem by its key.', 'Fix the file; it is reloaded once it stands still for a poll (or send SIGHUP).'],
      evidence: 'eastwatch inventory check /path/to/inventory.yaml',
      silence: SILENCE_PIPELINE('EastwatchInventoryStale'),
    },
  },
  {
    alert: 'EastwatchDetectorsBehind', group: 'eastwatch-pipeline', for: '10m', severity: 'warning',
    expr: 'max by (instance) (eastwatch_detector_lag_seconds) > 60',
    summary: 'The streaming detectors judge flows late.',
    description: 'The streaming detectors on {{ $labels.instance }} judge flows {{ $value | humanizeDuration }} after they reached Kafka.',
    runbook: {
      meaning: 'Flows wait more than a minute between Kafka and the streaming detectors: alerts come that much later.',
      triage: ['Check the detectors process\'s CPU and `eastwatch_kafka_consumer_lag{group="eastwatch-detectors"}`.', 'Run more detectors processes (one consumer group; the flows topic is partitioned by source node).'],
      evidence: 'max by (instance) (eastwatch_detector_lag_seconds)',
      silence: SILENCE_PIPELINE('EastwatchDetectorsBehind'),
    },
  },
  {
    alert: 'EastwatchWindowedDetectorsFailing', group: 'eastwatch-pipeline', for: '15m', severity: 'warning',
    expr: 'sum by (instance, detector) (increase(eastwatch_detector_windowed_runs_total{result="error"}[15m])) > 0\n  unless sum by (instance, detector) (increase(eastwatch_detector_windowed_runs_total{result="ok"}[15m])) > 0',
    summary: 'A windowed detector keeps failing.',
    description: 'Windowed detector {{ $labels.detector }} on {{ $labels.instance }} has not completed an evaluation in 15 minutes.',
    runbook: {
      meaning: 'A windowed detector (egress, new destinations, traffic share) cannot query the rollups: its alerts are not raised.',
      triage: ['Read eastwatch\'s log for "windowed detector failed": it carries the ClickHouse error.', 'Check ClickHouse\'s health and the rollup tables (`SELECT count() FROM eastwatch.egress_5m`).'],
      evidence: 'sum by (detector, result) (increase(eastwatch_detector_windowed_runs_total[15m]))',
      silence: SILENCE_PIPELINE('EastwatchWindowedDetectorsFailing'),
    },
  },
];

const SEED_SILENCE = (alert: string) => `\`amtool silence add alertname=${alert} --duration 2h --comment "why"\`; these rules are for comparison and need not page anyone.`;

/** The seed's two rules with their expressions, labels and summaries as written; description and runbook added. */
const SEED: AlertRule[] = [
  {
    alert: 'TrainingPodUnexpectedEgress', group: 'seed-comparison', severity: 'warning',
    expr: 'sum by (destination) (\n  rate(hubble_drop_total{\n    source_namespace="ai-training",\n    reason="POLICY_DENIED"\n  }[5m])\n) > 0',
    summary: 'Training pod attempted blocked egress to {{ $labels.destination }}',
    description: 'A pod in ai-training namespace attempted to reach a destination blocked by network policy. Investigate for potential data exfiltration.',
    runbook: {
      meaning: "The seed's Hubble rule, on Cilium's own metrics: a pod of ai-training was denied by network policy. eastwatch's policy-denied detector raises the same events with the pod, the destination and the flows.",
      triage: ['Find the matching eastwatch alert: `eastwatch alerts list --detector policy-denied --status open`.', 'Follow the policy-denied runbook (EastwatchPolicyDenied).'],
      evidence: "SELECT time_end, src_pod, src_namespace, dst_addr, dst_port, drop_reason FROM eastwatch.flows WHERE src_namespace = 'ai-training' AND verdict = 'DROPPED' AND time_end > now() - INTERVAL 1 HOUR ORDER BY time_end DESC LIMIT 100",
      silence: SEED_SILENCE('TrainingPodUnexpectedEgress'),
    },
  },
  {
    alert: 'TrainingDataEgressVolumeSpike', group: 'seed-comparison', severity: 'warning',
    expr: 'sum(rate(container_network_transmit_bytes_total{namespace="ai-training"}[10m]))\n> 1.5 * avg_over_time(\n  sum(rate(container_network_transmit_bytes_total{namespace="ai-training"}[10m]))[7d:1h]\n)',
    summary: 'Training namespace egress volume 1.5x above 7-day average',
    description: 'The ai-training namespace transmits 1.5 times its 7-day average (cAdvisor container_network_transmit_bytes_total: all traffic, east-west included).',
    runbook: {
      meaning: "The seed's volume rule, as written, on cAdvisor's counters: it counts every byte a pod sends (collectives and checkpoints included) and every approved upload, so it fires on normal training life. Kept to compare with egress-spike.",
      triage: ['Check whether eastwatch\'s egress-spike alerted at the same time; if not, look for a checkpoint or an approved upload.'],
      evidence: 'sum(rate(container_network_transmit_bytes_total{namespace="ai-training"}[10m]))',
      silence: SEED_SILENCE('TrainingDataEgressVolumeSpike'),
    },
  },
  {
    alert: 'TrainingDataEgressVolumeSpikeEastwatch', group: 'seed-comparison', severity: 'warning',
    expr: 'sum by (zone, namespace) (rate(eastwatch_egress_bytes_total{namespace="ai-training"}[10m]))\n> 1.5 * max by (zone, namespace) (eastwatch_egress_baseline_bytes_per_second{namespace="ai-training"})',
    summary: 'Training namespace egress volume 1.5x above 7-day average (eastwatch series)',
    description: "Zone {{ $labels.zone }}, namespace {{ $labels.namespace }} sends {{ $value | humanize }}B/s out of the cluster: the seed's rule on eastwatch's egress series (egress only, baseline from the hourly rollup).",
    runbook: {
      meaning: "The seed's volume rule on eastwatch's own series: egress only (through the proxy or straight out), against the 7-day average eastwatch computes from its hourly rollup. It still counts approved uploads, which egress-spike leaves out.",
      triage: ['Check egress-spike\'s alerts for the same zone: `eastwatch alerts list --detector egress-spike`.', 'Look at the top destinations in the egress dashboard.'],
      evidence: "SELECT destination, sum(bytes) AS bytes FROM eastwatch.egress_5m WHERE src_namespace = 'ai-training' AND bucket > now() - INTERVAL 1 HOUR GROUP BY destination ORDER BY bytes DESC LIMIT 20",
      silence: SEED_SILENCE('TrainingDataEgressVolumeSpikeEastwatch'),
    },
  },
];

/** Every alert rule, in the order of the generated files. */
export const ALERT_RULES: readonly AlertRule[] = [...DETECTORS.map(detectorRule), ...PIPELINE, ...SEED];

export const RULE_GROUPS = ['eastwatch-detectors', 'eastwatch-pipeline', 'seed-comparison'] as const;
