/** Stops what test/global-setup.ts started (Temporal, then the database) and removes its temp dir. */
import { takeTestStack } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  await takeTestStack()?.stop();
}
