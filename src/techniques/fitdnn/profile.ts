// How Fit-DNN layers show in `frugal info`: delay loops D, node separation θ and the processing time
// L·N·θ per sample (in units of the neuron's time constant), beside the equivalent network's MACs.
import { extra, fmtInt, registerProfileExtension, type LayerProfile } from '../../report/profile.js';

const fitLayers = (layers: LayerProfile[]) => layers.filter((l) => extra(l, 'delayLoops') !== undefined);
const fmtNum = (v: number | undefined) => (v === undefined ? '' : String(Number(v.toPrecision(6))));

registerProfileExtension('fitdnn', {
  summarize(layers) {
    const fit = fitLayers(layers);
    if (!fit.length) return undefined;
    const sum = (k: string) => fit.reduce((a, l) => a + (extra(l, k) ?? 0), 0);
    const thetas = fit.map((l) => extra(l, 'theta')).filter((t): t is number => t !== undefined);
    return {
      delayLoops: sum('delayLoops'),
      ...(thetas.length ? { theta: thetas.length === 1 ? thetas[0] : thetas } : { theta: 'decoupled (θ → ∞)' }),
      ...(thetas.length ? { processingTime: sum('processingTime') } : {}),
    };
  },
  columns: (p) =>
    p.summary.delayLoops === undefined
      ? []
      : [
          {
            head: 'loops',
            at: 'end',
            total: fmtInt(p.summary.delayLoops as number),
            cell: (l) => fmtNum(extra(l, 'delayLoops')),
          },
          {
            head: 'θ',
            at: 'end',
            total: '',
            cell: (l) => (extra(l, 'delayLoops') === undefined ? '' : fmtNum(extra(l, 'theta')) || '∞'),
          },
          {
            head: 'L·N·θ',
            at: 'end',
            total: p.summary.processingTime === undefined ? '' : fmtNum(p.summary.processingTime as number),
            cell: (l) => fmtNum(extra(l, 'processingTime')),
          },
        ],
});
