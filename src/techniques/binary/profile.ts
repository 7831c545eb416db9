// How binarized layers show in `frugal info` (Larq's summary): 1-bit weights, MACs done as XNOR-popcount, packed bytes.
import { extra, fmtInt, registerProfileExtension, type LayerProfile } from '../../report/profile.js';

/** The model's binary summary: 1-bit weights, binary MACs and their share of all MACs, bytes once packed. */
export interface BinarySummary {
  params: number;
  macs: number;
  macShare: number;
  packedBytes: number;
}

function summary(layers: LayerProfile[]): BinarySummary {
  const sum = (f: (l: LayerProfile) => number) => layers.reduce((a, l) => a + f(l), 0);
  const macs = sum((l) => l.macs),
    binMacs = sum((l) => extra(l, 'binaryMacs') ?? 0);
  return {
    params: sum((l) => extra(l, 'binaryParams') ?? 0),
    macs: binMacs,
    macShare: macs ? binMacs / macs : 0,
    packedBytes: sum((l) => extra(l, 'packedBytes') ?? l.bytes),
  };
}

registerProfileExtension('binary', {
  summarize: (layers) =>
    layers.some((l) => extra(l, 'binaryParams') !== undefined) ? { binary: summary(layers) } : undefined,
  columns: (p) => {
    const b = p.summary.binary as BinarySummary | undefined;
    if (!b) return [];
    return [
      { head: '1-bit params', at: 'end', cell: (l) => fmtInt(extra(l, 'binaryParams') ?? 0), total: fmtInt(b.params) },
      {
        head: 'binary MACs',
        at: 'end',
        cell: (l) => fmtInt(extra(l, 'binaryMacs') ?? 0),
        total: `${fmtInt(b.macs)} (${(100 * b.macShare).toFixed(1)}%)`,
      },
      {
        head: 'packed bytes',
        at: 'end',
        cell: (l) => fmtInt(extra(l, 'packedBytes') ?? l.bytes),
        total: fmtInt(b.packedBytes),
      },
    ];
  },
});
