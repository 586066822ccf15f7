/**
 * The generated alert rules under the real promtool (Debian's prometheus package): `promtool check rules` on
 * the rules file and on the PrometheusRule's groups, and `promtool test rules` with series in and alerts out for
 * every rule: quiet before its `for:`, firing after with its labels and templated annotations, and a detector's
 * alert quiet again once its episodes ended. A rule without a case here fails the test. The example
 * Alertmanager configuration passes amtool.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parse, stringify } from 'yaml';
import { ALERT_RULES, runbookUrl } from '../../alerts/rules/catalog';
import { prometheusRule, rulesFile } from '../../alerts/rules/render';

interface Expected {
  exp_labels: Record<string, string>;
  exp_annotations: Record<string, string>;
}
interface Case {
  interval?: string;
  input_series: { series: string; values: string }[];
  /** [eval time, alerts expected then] */
  evals: [string, Expected[]][];
}

const rule = (name: string) => {
  const r = ALERT_RULES.find((x) => x.alert === name);
  if (!r) throw new Error(`no rule ${name}`);
  return r;
};
/** An alert of rule `name` with these labels, its description as rendered. */
const fired = (name: string, labels: Record<string, string>, description: string): Expected => {
  const r = rule(name);
  return {
    exp_labels: { ...(r.severity ? { severity: r.severity } : {}), ...labels },
    exp_annotations: { summary: r.summary.replace('{{ $labels.destination }}', labels.destination ?? ''), description, runbook_url: runbookUrl(name) },
  };
};

const I = 'instance="a:8080", job="eastwatch"';
const IL = { instance: 'a:8080', job: 'eastwatch' };

const detectorCase = (d: string, severity: string): [string, Case] => {
  const name = `Eastwatch${d.split('-').map((w) => w[0]!.toUpperCase() + w.slice(1)).join('')}`;
  const what = rule(name).description.replace(/^.*? alert\(s\) firing in eastwatch: /, '');
  return [name, {
    // Two detector processes each hold the restored episodes: max, not sum.
    input_series: [
      { series: `eastwatch_alerts_firing{detector="${d}", severity="${severity}", instance="a:8080", job="eastwatch"}`, values: '0 0 2 2 0 0' },
      { series: `eastwatch_alerts_firing{detector="${d}", severity="${severity}", instance="b:8080", job="eastwatch"}`, values: '0 0 2 2 0 0' },
    ],
    evals: [
      ['1m', []],
      ['2m', [fired(name, { detector: d, severity }, `2 ${severity} ${d} alert(s) firing in eastwatch: ${what}`)]],
      ['5m', []],
    ],
  }];
};

const CASES = new Map<string, Case>([
  detectorCase('outside-allocation', 'critical'),
  detectorCase('topology-mismatch', 'warning'),
  detectorCase('egress-spike', 'critical'),
  detectorCase('seed-egress-volume', 'warning'),
  detectorCase('zone-violation', 'critical'),
  detectorCase('policy-denied', 'warning'),
  detectorCase('scan', 'warning'),
  detectorCase('new-destination', 'critical'),
  ['EastwatchDown', {
    input_series: [{ series: `up{${I}}`, values: '1 0x10' }],
    evals: [['5m', []], ['7m', [fired('EastwatchDown', IL, 'Prometheus has not scraped eastwatch at a:8080 for 5 minutes: its collectors, detectors or writer may be down.')]]],
  }],
  ['EastwatchExporterSilent', {
    input_series: [{ series: `eastwatch_collector_packets_total{protocol="ipfix", exporter="127.1.0.1", ${I}}`, values: '0+10x5 50x40' }],
    evals: [['15m', []], ['22m', [fired('EastwatchExporterSilent', { instance: 'a:8080', protocol: 'ipfix', exporter: '127.1.0.1' }, 'Exporter 127.1.0.1 (ipfix) sent nothing to a:8080 for 15 minutes.')]]],
  }],
  ['EastwatchSequenceLoss', {
    input_series: [{ series: `eastwatch_collector_lost_total{protocol="sflow", exporter="127.2.0.1", ${I}}`, values: '0+60x40' }],
    evals: [['10m', []], ['20m', [fired('EastwatchSequenceLoss', { instance: 'a:8080', protocol: 'sflow', exporter: '127.2.0.1' }, 'Exporter 127.2.0.1 (sflow) to a:8080: 1 records (IPFIX) or packets (NetFlow v9, sFlow) lost per second, by sequence numbers.')]]],
  }],
  ['EastwatchRecordsDropped', {
    input_series: [{ series: `eastwatch_records_dropped_total{stage="collector", reason="backlog-full", ${I}}`, values: '0+300x20' }],
    evals: [['4m', []], ['8m', [fired('EastwatchRecordsDropped', { instance: 'a:8080', stage: 'collector', reason: 'backlog-full' }, 'Stage collector on a:8080 drops 5 records/s (backlog-full).')]]],
  }],
  ['EastwatchDeadLettersGrowing', {
    input_series: [{ series: `eastwatch_dead_letter_total{stage="collector", reason="ipfix-bad-length", ${I}}`, values: '0+15x60' }],
    evals: [['20m', []], ['40m', [fired('EastwatchDeadLettersGrowing', { instance: 'a:8080', stage: 'collector', reason: 'ipfix-bad-length' }, 'Stage collector on a:8080 has sent samples of bad input to the dead-letter topic for 30 minutes (ipfix-bad-length).')]]],
  }],
  ['EastwatchKafkaLag', {
    input_series: [0, 1].map((p) => ({ series: `eastwatch_kafka_consumer_lag{group="eastwatch-writer", topic="eastwatch.flows", partition="${p}", ${I}}`, values: '600000x30' })),
    evals: [['10m', []], ['20m', [fired('EastwatchKafkaLag', { instance: 'a:8080', group: 'eastwatch-writer', topic: 'eastwatch.flows' }, 'Group eastwatch-writer on a:8080 is 1.2M messages behind on eastwatch.flows.')]]],
  }],
  ['EastwatchInventoryStale', {
    input_series: [{ series: `eastwatch_inventory_stale{${I}}`, values: '0 1x30' }],
    evals: [['10m', []], ['20m', [fired('EastwatchInventoryStale', { instance: 'a:8080' }, 'eastwatch on a:8080 keeps an older inventory: the file on disk did not validate.')]]],
  }],
  ['EastwatchDetectorsBehind', {
    input_series: [{ series: `eastwatch_detector_lag_seconds{${I}}`, values: '120x30' }],
    evals: [['5m', []], ['15m', [fired('EastwatchDetectorsBehind', { instance: 'a:8080' }, 'The streaming detectors on a:8080 judge flows 2m 0s after they reached Kafka.')]]],
  }],
  ['EastwatchWindowedDetectorsFailing', {
    input_series: [
      { series: `eastwatch_detector_windowed_runs_total{detector="egress-spike", result="error", ${I}}`, values: '0+4x40' },
      { series: `eastwatch_detector_windowed_runs_total{detector="egress-spike", result="ok", ${I}}`, values: '100x40' },
      // A detector that fails now and then but completes is not failing.
      { series: `eastwatch_detector_windowed_runs_total{detector="new-destination", result="error", ${I}}`, values: '0+1x40' },
      { series: `eastwatch_detector_windowed_runs_total{detector="new-destination", result="ok", ${I}}`, values: '0+3x40' },
    ],
    evals: [['10m', []], ['30m', [fired('EastwatchWindowedDetectorsFailing', { instance: 'a:8080', detector: 'egress-spike' }, 'Windowed detector egress-spike on a:8080 has not completed an evaluation in 15 minutes.')]]],
  }],
  ['TrainingPodUnexpectedEgress', {
    input_series: [{ series: 'hubble_drop_total{source_namespace="ai-training", reason="POLICY_DENIED", destination="198.51.100.9"}', values: '0 0 0+6x10' }],
    evals: [['1m', []], ['4m', [fired('TrainingPodUnexpectedEgress', { destination: '198.51.100.9' }, rule('TrainingPodUnexpectedEgress').description)]]],
  }],
  ['TrainingDataEgressVolumeSpike', {
    interval: '5m',
    // 7 days at 1 kB/s, then 10 kB/s: the 10-minute rate against the average of the hourly rates over 7 days.
    input_series: [{ series: 'container_network_transmit_bytes_total{namespace="ai-training", pod="trainer-0"}', values: '0+300000x2016 604800000+3000000x12' }],
    evals: [['167h', []], ['168h30m', [fired('TrainingDataEgressVolumeSpike', {}, rule('TrainingDataEgressVolumeSpike').description)]]],
  }],
  ['TrainingDataEgressVolumeSpikeEastwatch', {
    input_series: [
      { series: `eastwatch_egress_bytes_total{zone="training", namespace="ai-training", ${I}}`, values: '0+60000x20 1200000+600000x20' },
      { series: `eastwatch_egress_baseline_bytes_per_second{zone="training", namespace="ai-training", ${I}}`, values: '1000x40' },
    ],
    evals: [['15m', []], ['35m', [fired('TrainingDataEgressVolumeSpikeEastwatch', { zone: 'training', namespace: 'ai-training' },
      "Zone training, namespace ai-training sends 10kB/s out of the cluster: the seed's rule on eastwatch's egress series (egress only, baseline from the hourly rollup).")]]],
  }],
]);

describe('the generated Prometheus rules under promtool', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'eastwatch-rules-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const promtool = (...args: string[]) => execFileSync('promtool', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

  it('checks the rules file and the PrometheusRule\'s groups', () => {
    writeFileSync(path.join(dir, 'rules.yml'), rulesFile());
    writeFileSync(path.join(dir, 'operator.yml'), stringify({ groups: parse(prometheusRule()).spec.groups }));
    expect(promtool('check', 'rules', 'rules.yml')).toMatch(/SUCCESS: 20 rules found/);
    expect(promtool('check', 'rules', 'operator.yml')).toMatch(/SUCCESS: 20 rules found/);
  });

  it('has a case for every rule, quiet before its for: and after, firing between with its labels and annotations', () => {
    expect([...CASES.keys()].sort()).toEqual(ALERT_RULES.map((r) => r.alert).sort());
    for (const r of ALERT_RULES) {
      const c = CASES.get(r.alert)!;
      expect([r.alert, c.evals.some(([, e]) => e.length === 0), c.evals.some(([, e]) => e.length > 0)]).toEqual([r.alert, true, true]);
    }
    writeFileSync(path.join(dir, 'rules.yml'), rulesFile());
    const tests = [...CASES].map(([alert, c]) => ({
      interval: c.interval ?? '1m',
      input_series: c.input_series,
      alert_rule_test: c.evals.map(([eval_time, exp_alerts]) => ({ eval_time, alertname: alert, exp_alerts })),
    }));
    writeFileSync(path.join(dir, 'rules_test.yml'), stringify({ rule_files: ['rules.yml'], evaluation_interval: '1m', tests }));
    let out: string;
    try {
      out = promtool('test', 'rules', 'rules_test.yml');
    } catch (e) {
      throw new Error(`promtool test rules failed:\n${(e as { stdout?: string }).stdout}${(e as { stderr?: string }).stderr}`);
    }
    expect(out).toMatch(/SUCCESS/);
  });

  it('ships an example Alertmanager configuration amtool accepts', () => {
    const out = execFileSync('amtool', ['check-config', path.resolve(__dirname, '../../alerts/alertmanager/alertmanager.example.yml')], { encoding: 'utf8' });
    expect(out).toMatch(/SUCCESS[\s\S]*3 receivers/);
  });
});
