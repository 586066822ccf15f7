/**
 * End-to-end benchmark: simulator flows (the default scenario) produced to Kafka for BENCH_SECONDS (60) as fast as the producer goes
 * (or at BENCH_RATE flows/s), a writer child process (`eastwatch start --roles writer,http`) inserting them
 * into chDB. Prints flows/s produced and stored, loss, drain latency and the writer's RSS.
 *
 * Uses KAFKA_BROKERS when set, else starts the bundled broker on 127.0.0.1:19292 for the run.
 */
import { execFileSync, spawn } from 'node:child_process';
import { loadConfig } from '../app/config';
import { ensureTopics, groupProgress, kafkaContext, waitCaughtUp } from '../core/kafka';
import { createLogger } from '../core/log';
import { RecordProducer } from '../core/record-producer';
import { FLOWS } from '../core/streams';
import { sampleFlows } from '../simulator/sample';
import { benchSetup, CLI, memoryOf, mib } from './setup';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const RATE = Number(process.env.BENCH_RATE ?? 0);

async function main(): Promise<void> {
  const bench = benchSetup();
  const { env } = bench;
  const cfg = loadConfig(env);
  const log = createLogger('error');
  const kafka = kafkaContext(cfg.kafka, log);
  await ensureTopics(kafka, log);

  const writer = spawn(process.execPath, [CLI, 'start', '--roles', 'writer,http'], { env, stdio: 'inherit' });
  const producer = new RecordProducer(kafka, FLOWS, log, { stage: 'bench' });
  await producer.connect();
  const pool = sampleFlows(200_000, { seed: 99 });

  console.log(`producing for ${SECONDS} s ${RATE ? `at ${RATE} flows/s` : 'as fast as possible'}; writer pid ${writer.pid}`);
  const t0 = Date.now();
  let produced = 0;
  let peakRss = 0;
  let lastReport = t0;
  while (Date.now() - t0 < SECONDS * 1000) {
    const chunk = 10_000;
    const now = Date.now();
    for (let i = 0; i < chunk; i++) {
      const f = pool[(produced + i) % pool.length]!;
      f.time_received = now;
      producer.push({ ...f });
    }
    produced += chunk;
    if (producer.buffered > 200_000) await producer.flush();
    if (RATE) {
      const ahead = produced / RATE * 1000 - (Date.now() - t0);
      if (ahead > 0) await new Promise((r) => setTimeout(r, ahead));
    } else await new Promise((r) => setImmediate(r));
    if (Date.now() - lastReport >= 5000) {
      lastReport = Date.now();
      peakRss = Math.max(peakRss, memoryOf(writer.pid!, 'VmRSS'));
      const p = await groupProgress(kafka.client, kafka.topics.flows, cfg.writer.groupId).catch(() => undefined);
      console.log(`  t=${((lastReport - t0) / 1000).toFixed(0)}s produced=${produced} stored=${p ? p.committed * cfg.kafka.flowsPerMessage : '?'}~ writer RSS=${mib(memoryOf(writer.pid!, 'VmRSS'))}`);
    }
  }
  await producer.close();
  const producedAt = Date.now();
  await waitCaughtUp(kafka.client, kafka.topics.flows, cfg.writer.groupId, 600_000);
  const doneAt = Date.now();
  peakRss = Math.max(peakRss, memoryOf(writer.pid!, 'VmHWM'));
  writer.kill('SIGTERM');
  await new Promise((r) => writer.once('exit', r));

  const stored = Number(JSON.parse(execFileSync(process.execPath, [CLI, 'query', 'SELECT count() AS n FROM eastwatch.flows'], { env }).toString()).n);
  const secs = (doneAt - t0) / 1000;
  console.log('\neastwatch pipeline benchmark (synthetic flows -> Kafka -> writer -> chDB)');
  console.log(`  produced            ${produced} flows in ${((producedAt - t0) / 1000).toFixed(1)} s = ${Math.round(produced / ((producedAt - t0) / 1000))} flows/s`);
  console.log(`  stored              ${stored} flows; loss ${produced - stored} (${(((produced - stored) / produced) * 100).toFixed(3)} %)`);
  console.log(`  end to end          ${Math.round(stored / secs)} flows/s sustained (first produce to last commit, ${secs.toFixed(1)} s)`);
  console.log(`  drain latency       ${((doneAt - producedAt) / 1000).toFixed(1)} s from last produce to last commit`);
  console.log(`  writer RSS          peak ${mib(peakRss)}`);
  bench.teardown();
  process.exit(produced === stored ? 0 : 1);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
