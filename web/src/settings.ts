/** What the server tells the app at load time, in a meta tag (no inline script: the CSP forbids it). */
export interface Settings {
  temporalUiUrl: string;
  temporalNamespace: string;
  /** The server honours X-Saga-Fault: the pay form offers the fault drill. */
  sagaFaults: boolean;
  /** The currencies wallets may hold. */
  currencies: string[];
}

const DEFAULTS: Settings = { temporalUiUrl: 'http://localhost:8233', temporalNamespace: 'default', sagaFaults: false, currencies: ['USD', 'EUR', 'GBP', 'INR'] };

/** Reads the settings the API wrote into index.html; defaults when served by something else. */
export function readSettings(): Settings {
  const content = document.querySelector('meta[name="sagapay-settings"]')?.getAttribute('content') ?? '{}';
  try {
    return { ...DEFAULTS, ...(JSON.parse(content) as Partial<Settings>) };
  } catch {
    return DEFAULTS;
  }
}

/** The Temporal Web UI page of one workflow. */
export function temporalWorkflowUrl(settings: Settings, workflowId: string): string {
  return `${settings.temporalUiUrl}/namespaces/${encodeURIComponent(settings.temporalNamespace)}/workflows/${encodeURIComponent(workflowId)}`;
}
