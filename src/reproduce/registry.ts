// Every reproduction, registered once: `frugal reproduce --help` lists them from here and
// `frugal reproduce NAME` dispatches through here. A new reproduction adds one line below.
import type { Reproduction } from './report.js';
import { pruning } from './pruning.js';
import { circconv } from './circconv.js';
import { binaryJets } from './binary.js';
import { ras } from './ras.js';
import { fitdnn } from './fitdnn.js';
import { hsic } from './hsic.js';
import { bcgd } from './bcgd.js';
import { gdhp } from './gdhp.js';
import { snn } from './snn.js';
import { ecgSearch } from './ecg-search.js';

const registry = new Map<string, Reproduction>();

/** Add a reproduction under its name (names are unique). */
export function register(r: Reproduction): void {
  if (registry.has(r.name)) throw new Error(`reproduction ${JSON.stringify(r.name)} is registered twice`);
  registry.set(r.name, r);
}

register(pruning);
register(circconv);
register(binaryJets);
register(ras);
register(fitdnn);
register(hsic);
register(bcgd);
register(gdhp);
register(snn);
register(ecgSearch);

/** The registered reproductions, in registration order. */
export function reproductions(): Reproduction[] {
  return [...registry.values()];
}

/** The reproduction called `name`, or undefined. */
export function reproduction(name: string): Reproduction | undefined {
  return registry.get(name);
}
