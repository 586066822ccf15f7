import { kafkaScript } from './broker';

export default function globalTeardown(): void {
  if (process.env.EASTWATCH_TEST_OWNS_BROKER) kafkaScript('stop');
}
