// How circulant layers show in `frugal info`: real multiplications of the FFT form beside the dense-equivalent MACs.
import { extra, fmtInt, registerProfileExtension, type LayerProfile } from '../../report/profile.js';

/** Per-sample multiplications counting circulant layers in their FFT form and every other layer's effective MACs. */
function fftFormMults(layers: LayerProfile[]): number {
  return layers.reduce((a, l) => a + (extra(l, 'fftMults') ?? l.effectiveMacs), 0);
}

registerProfileExtension('circulant', {
  summarize: (layers) =>
    layers.some((l) => extra(l, 'fftMults') !== undefined) ? { fftFormMults: fftFormMults(layers) } : undefined,
  columns: (p) =>
    p.summary.fftFormMults === undefined
      ? []
      : [
          {
            head: 'FFT-form mults',
            at: 'beforeBytes',
            total: fmtInt(p.summary.fftFormMults as number),
            cell: (l) => {
              const v = extra(l, 'fftMults');
              return v !== undefined ? fmtInt(v) : '';
            },
          },
        ],
});
