/** The test broker: the project's own scripts/kafka.sh on a port of its own, unless KAFKA_BROKERS is set. */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '../..');
export const TEST_HOME = path.join(ROOT, '.eastwatch-test');
export const TEST_KAFKA_PORT = 19092;
export const KAFKA_LIBS = path.join(TEST_HOME, 'kafka', 'libs');

export function kafkaScript(cmd: 'start' | 'stop'): void {
  execFileSync('bash', [path.join(ROOT, 'scripts/kafka.sh'), cmd], {
    env: { ...process.env, EASTWATCH_HOME: TEST_HOME, KAFKA_PORT: String(TEST_KAFKA_PORT), KAFKA_LIBS },
    stdio: 'inherit',
    timeout: 300_000,
  });
}
