import {
  deepLinearFromSpec,
  deepLinearWidths,
  fashionProblem,
  firstBelow,
  initDeepLinear,
  optimum,
  relativeGaps,
  trainBcgd,
} from '../../index.js';
import { defaultStopSignal, loadFashionMnist, TrainingInterrupted } from '../../node.js';
import { choice, emit, note, num, parse, UsageError, type Options, defaultsText, DATA_DIR_DEFAULT } from '../args.js';
import { resolveModel } from './train.js';

/**
 * Ctrl-C or SIGTERM stops the run after the current block step, exit 130 (main.ts runs the command on a worker
 * thread). A run can be long (--max-steps has no cap; each step of a wide, deep net multiplies its Gram
 * matrices) and keeps no checkpoint: it is deterministic from its flags, so a new run repeats it. It writes
 * no file (results go to stdout), so there is no output path to check before work.
 */
export const interruptible = true;

export const usage = `frugal layerwise [--depth L] [--width N] [--model SPEC.json] [--step exact|bound]
                 [--init orthogonal|gaussian] [--order forward|backward] [--pool P] [--train-samples N]
                 [--max-steps K] [--target-gap G] [--seed S] [--data-dir DIR] [--json]
  Fit Fashion-MNIST least squares (pixels/255 centred, one-hot targets) with a deep linear network
  W_L⋯W_1 x trained one layer at a time by block coordinate gradient descent (Shin): each step updates
  one W_j with the exact step η* = m‖G‖²/‖AGB‖², so there is no learning rate (--step bound: the
  smoothness bound m/(σ_max(A)²σ_max(B)²)). Prints the loss, the relative gap (L − L*)/(L₀ − L*) to the
  least-squares optimum L*, block steps and counted FLOPs. --depth L with hidden --width N (default
  max(d_x, 10)), or --model SPEC.json with only linear layers without bias (and flatten). --pool P
  average-pools the images P×P first (default 4: 49 features); everything runs in float64 through
  the Gram matrices, so --train-samples (default 10000) only costs their one-off product. Ctrl-C or
  SIGTERM stops after the current block step, exit 130 (no checkpoint: a new run repeats it exactly).
${defaultsText([
  '--depth 2',
  '--width max(d_x, 10)',
  '--model none (--depth and --width)',
  '--step exact',
  '--init orthogonal',
  '--order forward',
  '--pool 4',
  '--train-samples 10000 (at most the training set)',
  '--max-steps 2000',
  '--target-gap 1e-4',
  '--seed 1',
  `--data-dir ${DATA_DIR_DEFAULT}`,
])}`;

const options: Options = {
  depth: { type: 'string' },
  width: { type: 'string' },
  model: { type: 'string' },
  step: { type: 'string' },
  init: { type: 'string' },
  order: { type: 'string' },
  pool: { type: 'string' },
  'train-samples': { type: 'string' },
  'max-steps': { type: 'string' },
  'target-gap': { type: 'string' },
  seed: { type: 'string' },
  'data-dir': { type: 'string' },
};

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, options);
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const json = !!values.json;
  if (values.model !== undefined && (values.depth !== undefined || values.width !== undefined))
    throw new UsageError('--model sets the widths: drop --depth and --width');
  const depth = num(values, 'depth', 2, { int: true, min: 1, max: 64 });
  const step = choice(values, 'step', ['exact', 'bound'] as const, 'exact');
  const init = choice(values, 'init', ['orthogonal', 'gaussian'] as const, 'orthogonal');
  const order = choice(values, 'order', ['forward', 'backward'] as const, 'forward');
  const pool = choice(values, 'pool', ['1', '2', '4', '7', '14'] as const, '4');
  const maxSteps = num(values, 'max-steps', 2000, { int: true, min: 1 });
  const targetGap = num(values, 'target-gap', 1e-4, { min: 0, exclusiveMin: true, max: 1 });
  const seed = num(values, 'seed', 1, { int: true, min: 0 });
  const dx = (28 / Number(pool)) ** 2,
    dy = 10;
  const width = num(values, 'width', Math.max(dx, dy), { int: true, min: 1, max: 8192 });
  // A model file BCGD cannot train (a nonlinear or biased layer) is a run that cannot proceed: exit 1.
  let widths: number[];
  if (values.model !== undefined) {
    const { spec, label } = resolveModel(values.model as string);
    try {
      widths = deepLinearFromSpec(spec);
    } catch (e) {
      throw new Error(`${label}: ${(e as Error).message}`);
    }
    if (widths[0] !== dx || widths[widths.length - 1] !== dy)
      throw new Error(
        `${label} maps ${widths[0]} → ${widths[widths.length - 1]} features; with --pool ${pool} the problem ` +
          `has ${dx} inputs and ${dy} outputs (set its input to [${dx}] and its last out to ${dy}, or change --pool)`,
      );
  } else widths = deepLinearWidths(dx, dy, depth, width);
  const data = loadFashionMnist(values['data-dir'] as string | undefined);
  const count = num(values, 'train-samples', Math.min(10_000, data.train.count), {
    int: true,
    min: 1,
    max: data.train.count,
  });
  const p = fashionProblem(data.train, { pool: Number(pool), count, form: 'gram' });
  const star = optimum(p);
  const net = initDeepLinear(widths, { init, seed });
  const stop = defaultStopSignal();
  const r = trainBcgd(net, p, {
    step,
    order,
    maxSteps,
    optimum: star.loss,
    targetGap,
    onStep: (s) => {
      if (stop?.aborted) {
        const e = new TrainingInterrupted(0, 0, false);
        e.message = `interrupted at block step ${s.step} of at most ${maxSteps} (loss ${s.loss.toPrecision(8)})`;
        throw e;
      }
      if (!json && s.step % (widths.length - 1) === 0 && (s.step / (widths.length - 1)) % 50 === 0)
        note(`sweep ${s.step / (widths.length - 1)}: loss ${s.loss.toPrecision(8)}`);
    },
  });
  const gaps = relativeGaps(r.losses, star.loss);
  const stepsTo = Object.fromEntries(
    [1e-2, 1e-3, 1e-4, 1e-6].map((g) => {
      const i = firstBelow(gaps, g);
      return [g.toExponential(0), i < 0 ? null : { steps: i, flops: r.flops[i] }];
    }),
  );
  const out = {
    widths,
    samples: p.m,
    step,
    init,
    order,
    loss0: r.losses[0],
    loss: r.losses[r.losses.length - 1],
    lossStar: star.loss,
    gap: gaps[gaps.length - 1],
    steps: r.steps,
    flops: r.flops[r.flops.length - 1],
    stoppedBy: r.stoppedBy,
    stepsTo,
  };
  emit(
    json,
    out,
    [
      `deep linear network ${widths.join(' → ')} on ${p.m} Fashion-MNIST images (${dx} features), BCGD, ${step} step`,
      `loss ${out.loss0.toPrecision(8)} → ${out.loss.toPrecision(8)} (L* = ${star.loss.toPrecision(8)}), ` +
        `relative gap ${out.gap.toExponential(2)} after ${r.steps} block steps (${r.stoppedBy}), ` +
        `${out.flops.toExponential(3)} FLOPs`,
      ...Object.entries(stepsTo).map(
        ([g, v]) => `  gap ≤ ${g}: ${v ? `${v.steps} steps, ${v.flops.toExponential(3)} FLOPs` : 'not reached'}`,
      ),
    ].join('\n'),
  );
  return 0;
}
