/** USD with sensible precision for small model costs: `$0.0123` below a dollar, `$12.34` above. */
export function formatUsd(n: number): string {
  return n < 1 ? `$${n.toFixed(4)}` : `$${n.toFixed(2)}`;
}
