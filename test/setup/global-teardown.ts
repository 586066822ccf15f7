import { kafkaScript } from './broker';

export default function globalTeardown(): void {
  if (process.env.OWNS_TEST_KAFKA_BROKER) kafkaScript('stop');
}
