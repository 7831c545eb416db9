// The samplers by name, as the CLI and the reproduction pick them.
import { shuffleSampler, type Sampler } from '../../data/sampler.js';
import { adaptiveSampler, checkLambda } from './adaptive.js';
import { kfSampler, type RowScorer } from './kf.js';
import { obsSampler } from './obs.js';

/** The names `samplerByName` and `frugal train --sampler` accept (spec 10). */
export const SAMPLERS = ['uniform', 'obs', 'kf', 'as', 'ras', 'ras-kl'] as const;
export type SamplerName = (typeof SAMPLERS)[number];

/** What the samplers need beyond their name; each takes only what it uses. */
export interface NamedSamplerOptions {
  seed?: number;
  /** Strata of the training rows (as, ras, ras-kl): e.g. the labels. */
  strata?: ArrayLike<number>;
  /** λ of RAS (default 0.2). */
  lambda?: number;
  /** The extra forward pass of kf (kfScorer(model, train)). */
  score?: RowScorer;
  /** obs: each row's current loss (lossScorer(model, train)), re-scored every epoch as spec 10 runs OBS. */
  lossScore?: RowScorer;
}

/**
 * A sampler by name: uniform (today's shuffle, bit-identical for a seed), obs (Loshchilov & Hutter,
 * biased), kf (Katharopoulos & Fleuret), as (adaptive sampling over strata), ras (RAS-R1) and
 * ras-kl (RAS-R2). An unknown name, or a λ outside [0, 1], is refused with the choices.
 */
export function samplerByName(name: string, o: NamedSamplerOptions = {}): Sampler {
  if (!(SAMPLERS as readonly string[]).includes(name)) {
    throw new Error(`unknown sampler ${JSON.stringify(name)}; choose one of ${SAMPLERS.join(', ')}`);
  }
  if (o.lambda !== undefined) checkLambda(o.lambda);
  const seed = o.seed ?? 0;
  const strata = () => {
    if (!o.strata) throw new Error(`sampler ${name} needs the strata of the training rows (e.g. the labels)`);
    return o.strata;
  };
  switch (name as SamplerName) {
    case 'uniform':
      return shuffleSampler(seed);
    case 'obs':
      return obsSampler({ seed, rescore: o.lossScore });
    case 'kf':
      if (!o.score) throw new Error('sampler kf needs a score function (kfScorer(model, train))');
      return kfSampler({ score: o.score, seed });
    case 'as':
      return adaptiveSampler({ strata: strata(), seed, regularizer: 'none' });
    case 'ras':
      return adaptiveSampler({ strata: strata(), seed, regularizer: 'mixture', lambda: o.lambda });
    case 'ras-kl':
      return adaptiveSampler({ strata: strata(), seed, regularizer: 'kl', lambda: o.lambda });
  }
}

/** Uniform sampling without replacement: exactly shuffleSampler(seed), today's default order. */
export function uniformSampler(seed = 0): Sampler {
  return shuffleSampler(seed);
}
