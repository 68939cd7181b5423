/**
 * vega-lite publishes its types through package.json `exports`, which this project's
 * `moduleResolution: node` does not read; this declares the one function the bench uses.
 */
declare module 'vega-lite' {
  import type { Spec } from 'vega';

  /** Compiles a vega-lite specification to a vega one. */
  export function compile(spec: Record<string, unknown>): { spec: Spec };
}
