import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { portOpen } from '../../core/managed-kafka';
import { kafkaScript, ROOT, TEST_KAFKA_PORT } from './broker';

export default async function globalSetup(): Promise<void> {
  if (!existsSync(path.join(ROOT, 'dist/cli/main.js'))) {
    throw new Error('dist/ is missing: run the tests with `npm test`, which builds first');
  }
  if (!process.env.KAFKA_BROKERS) {
    // Another test run may already have the broker up: use it, and leave stopping it to that run.
    if (!(await portOpen(TEST_KAFKA_PORT))) {
      kafkaScript('start');
      process.env.OWNS_TEST_KAFKA_BROKER = '1';
    }
    process.env.KAFKA_BROKERS = `127.0.0.1:${TEST_KAFKA_PORT}`;
  }
}
