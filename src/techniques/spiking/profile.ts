// How a spiking model shows in `frugal info`: spikes and synaptic events per inference (as measured by
// `frugal snn` on data and stored in the model file) beside the ANN's MACs.
import { extra, fmtInt, registerProfileExtension, type LayerProfile } from '../../report/profile.js';

const sumOf = (layers: LayerProfile[], k: string) => layers.reduce((a, l) => a + (extra(l, k) ?? 0), 0);

registerProfileExtension('spiking', {
  summarize: (layers) => {
    const snn = layers.filter((l) => extra(l, 'timesteps') !== undefined);
    if (!snn.length) return undefined;
    const measured = snn.every((l) => extra(l, 'spikesPerInference') !== undefined);
    return {
      timesteps: extra(snn[0], 'timesteps'),
      annMacs: snn.reduce((a, l) => a + l.macs, 0),
      ...(measured
        ? {
            spikesPerInference: sumOf(snn, 'spikesPerInference'),
            synapticEventsPerInference: sumOf(snn, 'synapticEventsPerInference'),
          }
        : { spikes: 'not measured: frugal snn stores them when it writes the model' }),
    };
  },
  columns: (p) =>
    p.summary.spikesPerInference === undefined
      ? []
      : [
          {
            head: 'spikes/inference',
            at: 'end',
            total: fmtInt(p.summary.spikesPerInference as number),
            cell: (l) => (extra(l, 'spikesPerInference') !== undefined ? fmtInt(extra(l, 'spikesPerInference')!) : ''),
          },
          {
            head: 'syn. events/inference',
            at: 'end',
            total: fmtInt(p.summary.synapticEventsPerInference as number),
            cell: (l) =>
              extra(l, 'synapticEventsPerInference') !== undefined
                ? fmtInt(extra(l, 'synapticEventsPerInference')!)
                : '',
          },
        ],
});
