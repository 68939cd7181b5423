import { existsSync } from 'node:fs';
import { CHROMIUM, ensureComponent, findOnPath } from './provision';

/** Where Debian's `chromium` package puts the browser. */
const DEBIAN_CHROMIUM = '/usr/bin/chromium';

/** The Chromium binary the browser tests launch: CHROMIUM_PATH, Debian's, or one on PATH; undefined when none. */
export function locateChromium(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.CHROMIUM_PATH) return existsSync(env.CHROMIUM_PATH) ? env.CHROMIUM_PATH : undefined;
  if (existsSync(DEBIAN_CHROMIUM)) return DEBIAN_CHROMIUM;
  return findOnPath('chromium', env) ?? findOnPath('chromium-browser', env);
}

/** Makes Chromium present (apt-get as root or with password-less sudo, no service started) and returns its path. */
export async function ensureChromium(): Promise<string> {
  await ensureComponent(CHROMIUM, () => locateChromium() !== undefined);
  const path = locateChromium();
  if (!path) throw new Error('Chromium was installed but cannot be found; set CHROMIUM_PATH');
  return path;
}
