/** The test broker: the project's own scripts/kafka.sh on a port of its own, unless KAFKA_BROKERS is set. */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '../..');
export const TEST_HOME = path.join(ROOT, '.eastwatch-test');
export const TEST_KAFKA_PORT = 19092;
export const KAFKA_LIBS = path.join(TEST_HOME, 'kafka', 'libs');

/** Starts or stops a broker with scripts/kafka.sh: the shared test broker, or one of a test's own (home, port). */
export function kafkaScript(cmd: 'start' | 'stop', home = TEST_HOME, port = TEST_KAFKA_PORT): void {
  execFileSync('bash', [path.join(ROOT, 'scripts/kafka.sh'), cmd], {
    env: { ...process.env, EASTWATCH_HOME: home, KAFKA_PORT: String(port), KAFKA_LIBS },
    stdio: 'inherit',
    timeout: 300_000,
  });
}
