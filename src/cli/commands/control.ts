// frugal control train|rollout: GDHP controllers (spec 08) for the shipped plants or a linear plant
// given in JSON. Calls only the public API.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import {
  Rng,
  TrainingInterrupted,
  actorPolicy,
  defaultStopSignal,
  decodeController,
  drawStates,
  encodeController,
  fileCheckpoint,
  gainRelativeError,
  learnedGain,
  linearPolicy,
  parsePlantJson,
  plantFromSpec,
  recipeFor,
  recipeSelect,
  rollout,
  solveDare,
  trainGdhp,
  writeFileAtomic,
  type PlantSpec,
} from '../../node.js';
import { defaultsText, emit, num, parse, UsageError, type Options } from '../args.js';
import { checkOutputFile } from '../output.js';
import { checkResume } from '../resume.js';

/** Ctrl-C stops training after the current episode (main.ts runs the command on a worker thread). */
export const interruptible = true;

export const usage = `frugal control train --system lqr|nonlinear|cstr|PLANT.json --out PATH [--episodes N] [--seed S]
                     [--lookahead H] [--checkpoint PATH] [--resume] [--json]
frugal control rollout MODEL --x0 X1,X2,… [--steps N] [--json]
  Train an optimal controller by globalized dual heuristic programming (GDHP: critic, costate and
  actor networks; Kim et al., Automatica 2020) on a shipped plant (lqr: a linear test plant; nonlinear:
  a system with known optimal value; cstr: the Van de Vusse reactor, states scaled to [−1, 1]) or a
  discrete-time linear plant in JSON { "A": [[…]], "B": [[…]], "Q": [[…]], "R": [[…]] }. For a linear
  plant the result carries the learned gain (u = −Kx near 0), the Riccati gain dareGain and their
  relative error. rollout simulates a trained controller from --x0 and reports the cost. --lookahead H
  makes the critic's and costate's targets H model steps ahead under the actor (H = 1: spec 08's one step);
  each update then runs H model steps and actor passes (on the CSTR, H = 10 made updates 8.5× as costly).
  --out and --checkpoint are checked before training; a checkpoint is written after every episode, and
  Ctrl-C or SIGTERM stops after the current episode, exit 130; --resume continues from the checkpoint,
  and refuses (listing the differences) a --system, plant file contents, --episodes, --seed or --lookahead
  other than its.
${defaultsText([
  "--episodes the plant's recipe (linear plants 40, nonlinear 150, cstr 100)",
  '--seed 1',
  '--lookahead 1',
  '--checkpoint OUT.ckpt',
  "--steps the plant's horizon (linear 100; nonlinear 10/dt; cstr 2/dt steps)",
])}`;

const options: Options = {
  system: { type: 'string' },
  out: { type: 'string' },
  episodes: { type: 'string' },
  seed: { type: 'string' },
  lookahead: { type: 'string' },
  checkpoint: { type: 'string' },
  resume: { type: 'boolean' },
  x0: { type: 'string' },
  steps: { type: 'string' },
};

function plantSpecOf(system: string): PlantSpec {
  if (system === 'lqr' || system === 'nonlinear' || system === 'cstr') return { system };
  if (!system.endsWith('.json'))
    throw new UsageError(`--system must be lqr, nonlinear, cstr or a PLANT.json file, got ${JSON.stringify(system)}`);
  if (!existsSync(system)) throw new Error(`plant file ${system} does not exist; give a path to a JSON { A, B, Q, R }`);
  return parsePlantJson(readFileSync(system, 'utf8'), system);
}

/** A short digest of a plant given in JSON, so a resumed run notices an edited file. */
function plantDigest(spec: PlantSpec): string {
  return createHash('sha256').update(JSON.stringify(spec)).digest('hex').slice(0, 12);
}

async function train(argv: string[]): Promise<number> {
  const { values } = parse(argv, options, 0);
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  for (const k of ['x0', 'steps'])
    if (values[k] !== undefined) throw new UsageError(`--${k} belongs to control rollout`);
  const system = values.system as string | undefined;
  if (!system) throw new UsageError('--system lqr|nonlinear|cstr|PLANT.json is required');
  const out = values.out as string | undefined;
  if (!out) throw new UsageError('--out PATH is required');
  checkOutputFile('--out', out, 'controller.safetensors');
  const ckpt = (values.checkpoint as string | undefined) ?? `${out}.ckpt`;
  if (values.checkpoint !== undefined) checkOutputFile('--checkpoint', ckpt, 'controller.safetensors.ckpt');
  const spec = plantSpecOf(system);
  const plant = plantFromSpec(spec),
    recipe = recipeFor(plant);
  const episodes = num(values, 'episodes', recipe.options.episodes, { int: true, min: 1, max: 100000 });
  const seed = num(values, 'seed', 1, { int: true, min: 0 });
  const lookahead = num(values, 'lookahead', 1, { int: true, min: 1, max: 1000 });
  // What a resumed run must share with the first. --episodes too: the learning rates decay on a cosine over the
  // planned episodes, so another count is another run. A plant file is compared by its contents, not its name.
  const config = {
    system: 'system' in spec ? system : `${system} (contents ${plantDigest(spec)})`,
    episodes,
    seed,
    ...(lookahead > 1 ? { lookahead } : {}),
  };
  if (values.resume) checkResume(ckpt, config);
  const json = !!values.json;
  // The CSTR's policy swings during training: its recipe chooses it on validation states (own stream), here
  // by the plain mean closed-loop cost (no iLQR to compare with).
  const select = recipeSelect(plant, recipe);
  const r = trainGdhp(plant, {
    ...recipe.options,
    ...(select ? { select } : {}),
    episodes,
    seed,
    lookahead,
    checkpoint: fileCheckpoint(ckpt),
    resume: !!values.resume,
    config,
    // Ctrl-C (main.ts runs this command on a worker thread): stop after this episode, its checkpoint written.
    onEpisode: () => (defaultStopSignal()?.aborted ? 'stop' : undefined),
    ...(json ? {} : { progress: process.stderr }),
  });
  if (r.stopped) {
    const e = new TrainingInterrupted(r.resumedFromEpisode + r.episodesRun, 0, true);
    e.message = `interrupted after episode ${r.resumedFromEpisode + r.episodesRun} (checkpoint ${ckpt})`;
    throw e;
  }
  // Closed-loop cost from 20 states of the box (a seeded draw apart from training's).
  const rng = new Rng(10007 + seed),
    S = 20;
  const x0 = drawStates(plant, S, () => rng.random());
  const cost = rollout(plant, actorPolicy(r.nets.actor, plant.n), x0, S, recipe.horizon).cost;
  const meanCost = cost.reduce((a, b) => a + b, 0) / S;
  const result: Record<string, unknown> = {
    command: 'control train',
    system,
    out,
    episodes,
    seed,
    lookahead,
    updates: r.updates,
    updatesPerSecond: r.updatesPerSecond,
    resumedFromEpisode: r.resumedFromEpisode,
    horizon: recipe.horizon,
    meanClosedLoopCost: meanCost,
    ...(r.selected ? { selectedEpisode: r.selected.episode } : {}),
  };
  const lines = [`trained ${r.updates} updates (${r.updatesPerSecond.toFixed(0)}/s) over ${episodes} episodes`];
  if (r.selected && recipe.selection)
    lines.push(
      `policy chosen on validation states (stream ${recipe.selection.seed}, ${recipe.selection.states} states) ` +
        `every ${recipe.selection.every} episodes: episode ${r.selected.episode}`,
    );
  if (plant.linear) {
    const K = learnedGain(r.nets.actor, plant.n),
      dare = solveDare(plant.linear);
    const err = gainRelativeError(K, dare.K);
    const dareCost = rollout(plant, linearPolicy(dare.K), x0, S, recipe.horizon).cost.reduce((a, b) => a + b, 0) / S;
    Object.assign(result, { gain: K, dareGain: dare.K, gainRelativeError: err, meanDareCost: dareCost });
    lines.push(
      `gain K = ${JSON.stringify(K.map((row) => row.map((v) => +v.toPrecision(5))))}, Riccati K* = ` +
        `${JSON.stringify(dare.K.map((row) => row.map((v) => +v.toPrecision(5))))}, ‖K − K*‖/‖K*‖ = ` +
        `${(100 * err).toFixed(2)}%`,
      `mean closed-loop cost from 20 box states over ${recipe.horizon} steps: ${meanCost.toPrecision(5)} ` +
        `(Riccati policy ${dareCost.toPrecision(5)})`,
    );
  } else
    lines.push(`mean closed-loop cost from 20 box states over ${recipe.horizon} steps: ${meanCost.toPrecision(5)}`);
  writeFileAtomic(
    out,
    encodeController(r.nets, {
      format: 'frugal-controller',
      version: 1,
      plant: spec,
      arch: recipe.options.arch ?? [64, 64],
      activation: recipe.options.activation ?? 'tanh',
      gamma: recipe.options.gamma ?? 1,
      info: { episodes, seed, updates: r.updates, meanClosedLoopCost: meanCost },
    }),
  );
  lines.push(`saved ${out}`);
  emit(json, result, lines.join('\n'));
  return 0;
}

async function rolloutCmd(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, options, 1);
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  for (const k of ['system', 'out', 'episodes', 'lookahead', 'checkpoint', 'resume'])
    if (values[k] !== undefined) throw new UsageError(`--${k} belongs to control train`);
  const path = positionals[0];
  if (!existsSync(path)) throw new Error(`controller file ${path} does not exist; train one with frugal control train`);
  const { plant, nets, meta } = decodeController(readFileSync(path), path);
  const raw = values.x0 as string | undefined;
  if (raw === undefined)
    throw new UsageError(`--x0 is required: ${plant.n} comma-separated numbers (the initial state)`);
  const x0 = raw.split(',').map((s) => Number(s.trim()));
  if (x0.length !== plant.n || !x0.every(Number.isFinite))
    throw new UsageError(
      `--x0 must be ${plant.n} comma-separated finite numbers for plant ${plant.name}, got ${JSON.stringify(raw)}`,
    );
  const steps = num(values, 'steps', recipeFor(plant).horizon, { int: true, min: 1, max: 1000000 });
  const r = rollout(plant, actorPolicy(nets.actor, plant.n), x0, 1, steps);
  const final = Array.from(r.x.subarray(steps * plant.n));
  const result: Record<string, unknown> = {
    command: 'control rollout',
    model: path,
    plant: 'linear' in meta.plant ? 'linear' : meta.plant.system,
    x0,
    steps,
    cost: r.cost[0],
    finalState: final,
    maxAbsState: r.maxAbs[0],
    states: Array.from({ length: steps + 1 }, (_, k) => Array.from(r.x.subarray(k * plant.n, (k + 1) * plant.n))),
    inputs: Array.from({ length: steps }, (_, k) => Array.from(r.u.subarray(k * plant.m, (k + 1) * plant.m))),
  };
  if (plant.linear) {
    const dare = solveDare(plant.linear);
    const v = x0.reduce((a, xi, i) => a + xi * x0.reduce((b, xj, j) => b + dare.P[i][j] * xj, 0), 0);
    result.optimalCost = v;
  }
  emit(
    !!values.json,
    result,
    [
      `cost over ${steps} steps from x0 = [${x0.join(', ')}]: ${r.cost[0].toPrecision(6)}` +
        (result.optimalCost !== undefined
          ? ` (optimal x0ᵀPx0 = ${(result.optimalCost as number).toPrecision(6)})`
          : ''),
      `final state [${final.map((v) => v.toPrecision(4)).join(', ')}]`,
    ].join('\n'),
  );
  return 0;
}

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === '--help' || sub === '-h') {
    process.stdout.write(`${usage}\n`);
    return sub ? 0 : 2;
  }
  if (sub === 'train') return train(rest);
  if (sub === 'rollout') return rolloutCmd(rest);
  throw new UsageError(`unknown subcommand ${JSON.stringify(sub)}: use control train or control rollout`);
}
