/** Types of scripts/demo-provision.mjs (plain JavaScript so `npm run demo` needs no TypeScript loader). */
export interface ProvisionState {
  dockerHost?: string;
  isRoot: boolean;
  hasApt: boolean;
  engineUp: boolean;
  imagePresent: boolean;
  optOut: boolean;
}
export function provisionPlan(s: ProvisionState): { steps: ('engine' | 'image')[]; error?: string };
