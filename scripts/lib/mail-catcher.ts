import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { assertPortFree, isPortOpen, spawnManaged, waitFor, type ManagedProcess } from './processes';

const PROJECT_ROOT = resolve(__dirname, '..', '..');
const READY_TIMEOUT_MS = 30_000;

/** The dev mail catcher: every e-mail the stack sends lands in its web inbox. */
export interface MailCatcher {
  process: ManagedProcess;
  smtpPort: number;
  inboxUrl: string;
}

/** Options of `startMailCatcher`. */
export interface MailCatcherOptions {
  smtpPort: number;
  webPort: number;
  /** Folder for the caught mails (`maildev/`) and the log (`maildev.log`). */
  dataDir: string;
  /** Checked while waiting; a message aborts the wait (e.g. the stack is shutting down). */
  failIf?: () => string | undefined;
}

/** Starts maildev on 127.0.0.1 (mails kept in `<dataDir>/maildev`) and waits until both its ports answer. */
export async function startMailCatcher(options: MailCatcherOptions): Promise<MailCatcher> {
  const { smtpPort, webPort, dataDir } = options;
  await assertPortFree(smtpPort, 'the mail catcher\'s SMTP');
  await assertPortFree(webPort, 'the mail catcher\'s web inbox');
  const mailDirectory = join(dataDir, 'maildev');
  mkdirSync(mailDirectory, { recursive: true });
  const logFile = join(dataDir, 'maildev.log');
  const maildev = join(PROJECT_ROOT, 'node_modules', '.bin', 'maildev');
  // maildev 3 binds SMTP to --ip and the web inbox to --web-ip (0.0.0.0 by default): both stay on loopback.
  const args = ['--smtp', String(smtpPort), '--ip', '127.0.0.1', '--web', String(webPort), '--web-ip', '127.0.0.1', '--mail-directory', mailDirectory];
  const child = spawnManaged('maildev', maildev, args, { cwd: PROJECT_ROOT, logFile });
  try {
    await waitFor(async () => (await isPortOpen(smtpPort)) && (await isPortOpen(webPort)), {
      timeoutMs: READY_TIMEOUT_MS,
      intervalMs: 100,
      what: `maildev to listen on ${smtpPort} and ${webPort}`,
      failIf: () => (child.hasExited() ? `maildev exited (see ${logFile})` : options.failIf?.()),
    });
  } catch (error) {
    await child.stop();
    throw error;
  }
  return { process: child, smtpPort, inboxUrl: `http://127.0.0.1:${webPort}` };
}
