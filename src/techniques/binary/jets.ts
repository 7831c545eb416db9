// Neural jet features (Simons & Lee 2021; spec 06 sections C and D). The jet primitive is the
// paper's (and its authors' code's); how jets are combined into a layer — every output channel a
// ±1 combination of the nine 3×3 jets of every input channel, and the "constrained" variant with
// one jet per input–output pair — is OUR design, inferred from the abstract [OURS].
import { Rng } from '../../core/rng.js';
import { Tensor } from '../../core/tensor.js';
import { binaryKernels } from './kernels/index.js';
import * as F from '../../ops/index.js';
import { oneHotSte, steSign } from './ste.js';
import { uniform_ } from '../../nn/init.js';
import type { LayerSpec } from '../../nn/module.js';
import { registerLayer, specInt } from '../../nn/spec.js';
import type { CostReport } from '../../report/profile.js';
import { registerLayerFields } from '../../nn/spec-plan.js';
import {
  BINARY_QUANT_FIELDS,
  QuantizedLayer,
  binaryConvPlan,
  binarySpecOptions,
  padConstant,
  type BinaryOptions,
} from './quantized.js';

/** The 1-D factors: binomial blur [1, 2, 1], first difference [−1, 0, 1], second difference [1, −2, 1]. */
const FACTORS = [
  [1, 2, 1],
  [-1, 0, 1],
  [1, -2, 1],
];

/**
 * The nine 3×3 jets, row j = 3·iy + ix holding FACTORS[iy] (down the rows) ⊗ FACTORS[ix] (along
 * them): the binomial Gaussian, Sobel-x and -y, second differences and mixed products [9 × 9].
 */
export const JETS: Float32Array = (() => {
  const k = new Float32Array(81);
  for (let iy = 0; iy < 3; iy++)
    for (let ix = 0; ix < 3; ix++) {
      for (let u = 0; u < 3; u++)
        for (let v = 0; v < 3; v++) k[(3 * iy + ix) * 9 + u * 3 + v] = FACTORS[iy][u] * FACTORS[ix][v];
    }
  return k;
})();

/** Additions and subtractions per pixel and input channel of the shared tree (5 along x, 3·5 along y). */
export const JET_TREE_OPS = 20;

/**
 * All nine jet responses of every channel by the shared add/subtract tree ('valid': [C, H, W] →
 * [C, 9, H − 2, W − 2]; pad first for 'same'). Two-tap blur (a + b) and difference (b − a) along x
 * give [1,2,1], [−1,0,1], [1,−2,1] from 5 operations; the same three along y of each give the nine.
 * Equal to a correlation with JETS, exactly on integers.
 */
export function jetTree(x: Float32Array | Float64Array, C: number, H: number, W: number): Float32Array {
  if (H < 3 || W < 3) throw new Error(`jetTree: the map must be at least 3×3, got ${H}×${W}`);
  if (x.length !== C * H * W) throw new Error(`jetTree: ${x.length} values are not [${C}, ${H}, ${W}]`);
  const out = new Float32Array(C * 9 * (H - 2) * (W - 2));
  binaryKernels.for('float32').jetTree(x instanceof Float32Array ? x : Float32Array.from(x), C, H, W, out);
  return out;
}

/**
 * Cost of a jet layer with output [out, OH, OW] (shared by the trained and the packed layer):
 * dense-equivalent MACs of the 3×3 convolution it equals, none XNOR-popcount; addOps = the
 * tree's 20 per input channel at every stride-1 position (exact at stride 1; with stride s taken
 * as s·OH × s·OW) plus one addition per coefficient and output position (9 per input channel, 1
 * when constrained); packed: 1 bit per coefficient, or one byte per pair (sign and jet index)
 * when constrained, and the bias as float32.
 */
export function jetCost(
  inC: number,
  outC: number,
  stride: number,
  constrained: boolean,
  bias: number,
  out: readonly number[],
): Pick<CostReport, 'macs' | 'effectiveMacs' | 'extras'> {
  const spatial = out[1] * out[2],
    pairs = outC * inC,
    full = out[1] * stride * out[2] * stride;
  return {
    macs: pairs * 9 * spatial,
    effectiveMacs: pairs * 9 * spatial,
    extras: {
      binaryParams: constrained ? pairs : pairs * 9,
      binaryMacs: 0,
      packedBytes: (constrained ? pairs : Math.ceil((9 * pairs) / 8)) + 4 * bias,
      addOps: JET_TREE_OPS * inC * full + (constrained ? 1 : 9) * pairs * spatial,
    },
  };
}

export interface JetOptions extends BinaryOptions {
  /** 'same' padding is 1 (default); 0 for 'valid'. */
  padding?: number;
  stride?: number;
  /** The ±1 value a binary input is padded with (default +1). */
  padValue?: 1 | -1;
  /** One jet per input–output pair, chosen by learned scores, with a ±1 sign [OURS]. */
  constrained?: boolean;
}

/**
 * A binarized 3×3 convolution whose every kernel lies in the ±1 span of the nine jets:
 * K[o, c] = Σ_j B[o, c, j]·JET_j with B = sign(latent) ∈ {±1} (weight [out, in, 9]), so each
 * input channel's nine jet maps (one shared add/subtract tree) serve all outputs. Constrained:
 * K[o, c] = s[o, c]·JET_{argmax choice[o, c]} (weight [out, in] for s, choice [out, in, 9] scores
 * with a straight-through softmax gradient). Trained here through the equivalent convolution
 * with the effective kernels; the structure is the layer's design [OURS], the jets the paper's.
 */
export class NeuralJetConv2d extends QuantizedLayer {
  readonly stride: number;
  readonly padding: number;
  readonly padValue: 1 | -1;
  readonly constrained: boolean;
  choice: Tensor | null = null;
  private readonly jets = new Tensor(JETS, [9, 9]);
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    opts: JetOptions = {},
  ) {
    super('NeuralJetConv2d', opts);
    if (![inChannels, outChannels].every((v) => Number.isInteger(v) && v >= 1))
      throw new Error(`NeuralJetConv2d: in and out must be positive integers, got ${inChannels}, ${outChannels}`);
    if (this.scale !== 'none')
      throw new Error(
        "NeuralJetConv2d: scale must be 'none' (the jets carry their own magnitudes; batch norm follows)",
      );
    if (this.kernelQuantizer !== 'ste_sign')
      throw new Error("NeuralJetConv2d: the jet coefficients are binary (kernelQuantizer 'ste_sign')");
    this.stride = opts.stride ?? 1;
    this.padding = opts.padding ?? 1;
    this.padValue = opts.padValue ?? 1;
    if (this.padValue !== 1 && this.padValue !== -1)
      throw new Error(`NeuralJetConv2d: padValue must be +1 or −1, got ${opts.padValue}`);
    if (!Number.isInteger(this.stride) || this.stride < 1 || !Number.isInteger(this.padding) || this.padding < 0)
      throw new Error(
        `NeuralJetConv2d: stride must be ≥ 1 and padding ≥ 0 (integers), got ${this.stride}, ${this.padding}`,
      );
    this.constrained = !!opts.constrained;
    const rng = opts.rng ?? new Rng(0),
      c = this.clip ?? 1;
    if (this.constrained) {
      this.weight = this.registerParameter('weight', Tensor.zeros([outChannels, inChannels]));
      this.choice = this.registerParameter('choice', Tensor.zeros([outChannels, inChannels, 9]));
      uniform_(this.choice, rng, -1, 1);
    } else this.weight = this.registerParameter('weight', Tensor.zeros([outChannels, inChannels, 9]));
    uniform_(this.weight, rng, -c, c);
    this.bias = opts.bias ? this.registerParameter('bias', Tensor.zeros([outChannels])) : null;
  }
  /** The ±1 jet coefficients B [out, in, 9] (constrained: one non-zero, ±1, per pair). */
  coefficients(): Tensor {
    if (!this.constrained) return this.quantizedWeight();
    this.clipLatent();
    const s = steSign(this.weight, this.clip ?? Infinity);
    return F.mul(oneHotSte(this.choice!), F.reshape(s, [this.outChannels, this.inChannels, 1]));
  }
  /** The effective 3×3 kernels [out, in, 3, 3] (on the tape). */
  effectiveKernel(): Tensor {
    const B = F.reshape(this.coefficients(), [this.outChannels * this.inChannels, 9]);
    return F.reshape(F.matmul(B, this.jets), [this.outChannels, this.inChannels, 3, 3]);
  }
  forward(x: Tensor): Tensor {
    if (x.rank !== 4 || x.shape[1] !== this.inChannels)
      throw new Error(`NeuralJetConv2d expects [N, ${this.inChannels}, H, W], got [${x.shape}]`);
    const k = this.effectiveKernel();
    if (this.inputQuantizer === 'none')
      return F.conv2d(x, k, this.bias, { stride: this.stride, padding: this.padding });
    return F.conv2d(padConstant(this.quantizedInput(x), this.padding, this.padValue), k, this.bias, {
      stride: this.stride,
    });
  }
  costReport(out: readonly number[]): CostReport {
    const params = this.weight.size + (this.choice?.size ?? 0) + (this.bias?.size ?? 0);
    return {
      params,
      nonzeroParams: params,
      ...jetCost(this.inChannels, this.outChannels, this.stride, this.constrained, this.bias?.size ?? 0, out),
    };
  }
  toSpec(): LayerSpec {
    return {
      type: 'jet-conv2d',
      in: this.inChannels,
      out: this.outChannels,
      stride: this.stride,
      padding: this.padding,
      padValue: this.padValue,
      constrained: this.constrained,
      ...this.quantSpec(),
    };
  }
}

registerLayer(
  'jet-conv2d',
  (s, rng) =>
    new NeuralJetConv2d(specInt(s, 'in'), specInt(s, 'out'), {
      ...binarySpecOptions(s, rng),
      stride: specInt(s, 'stride', 1),
      padding: specInt(s, 'padding', 1),
      padValue: (s.padValue ?? 1) as 1 | -1,
      constrained: s.constrained === true,
    }),
  (_s, x, f) => binaryConvPlan(x, f, 3, 1),
);
registerLayerFields('jet-conv2d', {
  in: 'required',
  out: 'required',
  stride: '1',
  padding: '1',
  padValue: '1 (or -1)',
  constrained: 'false',
  ...BINARY_QUANT_FIELDS,
});
