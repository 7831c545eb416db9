// The GDHP trainer of spec 08 (Kim et al., Automatica 2020): critic V, costate Λ ≈ ∂V/∂x and actor π,
// each with a Polyak target copy, trained from a replay buffer of closed-loop transitions on the
// plant's autograd Jacobians. One update (gdhpUpdate) is the training step; trainGdhp is the loop
// around it, with a checkpoint after every episode and a resume that continues the same run.
import { Rng } from '../../core/rng.js';
import { Adam } from '../../optim/adam.js';
import type { ProgressSink } from '../../train/progress.js';
import type { EpochLog } from '../../train/fit.js';
import { restore, snapshot, type CheckpointStore, type TrainingParts } from '../../train/checkpoint.js';
import { stageCost, stepRows, type Plant } from './plant.js';
import { flatParams, ReplayBuffer, type ActivationName, type Architecture } from './networks.js';
import { drawStates } from './rollout.js';
import { gdhpNetworks, gdhpUpdate, runNet, type GdhpNets, type GdhpState } from './step.js';
import { copyNets, loadNets, type PolicySelection, type SelectionRecord } from './select.js';

export {
  gdhpNetworks,
  gdhpTargets,
  gdhpUpdate,
  actorPolicy,
  type GdhpNets,
  type GdhpState,
  type GdhpTargets,
} from './step.js';

export interface GdhpOptions {
  /** Hidden widths of all three networks, or 'linear' (default [64, 64]). */
  arch?: Architecture;
  activation?: ActivationName;
  /** Discount γ of the value and costate targets (default 1: tests A and B are undiscounted). */
  gamma?: number;
  /** Adam learning rate, one for all networks or per network (default 1e-3). */
  lr?: number | { critic?: number; costate?: number; actor?: number };
  /**
   * Cosine decay of every learning rate over the episodes, to lr·lrFloor at the last (default 1: constant).
   * A moving-target regression at a fixed step can leave its ultimate bound late in training (spec 08's UUB).
   */
  lrFloor?: number;
  /** Polyak rate τ of the target copies (default 0.05). */
  tau?: number;
  batchSize?: number;
  bufferSize?: number;
  episodes: number;
  /** Closed-loop steps per episode (default 50). */
  episodeLength?: number;
  /** Initial states simulated side by side in each episode (default 8). */
  parallel?: number;
  /** Gradient updates per simulated step (default 1). */
  updatesPerStep?: number;
  /** Gradient-norm clip of each network (default 5). */
  gradClip?: number;
  /** Std of the Gaussian exploration noise on u in episode e: σ/(1 + e/10) (default 0.1). */
  exploration?: number;
  /**
   * 'model' (default): targets at u = π(x), re-rolled through the plant (spec 08's pitfall: the
   * stationarity target is a fixed point only on-policy); 'replay': at the stored behaviour u and x'.
   */
  targets?: 'model' | 'replay';
  /**
   * Steps of the model rollout under the actor that the targets bootstrap from (default 1, spec 08's
   * one-step targets); more carries the costate back along the rollout (gdhpTargets).
   */
  lookahead?: number;
  /**
   * Share of each minibatch drawn uniformly from the plant's box instead of the buffer (default 0.5;
   * 'model' targets only). Closed-loop data crowd near the equilibrium; the value must hold on the box.
   */
  boxFraction?: number;
  /**
   * Box the episodes start from and the box share of each minibatch is drawn from (default the plant's
   * box). A wider box lets the networks see where the optimal closed loop goes, outside the start box.
   */
  trainBox?: { lo: number[]; hi: number[] };
  /**
   * Policy selection on validation states: score every `every` episodes and after the last, keep a copy
   * of the best-scoring networks and restore them when training completes (default none: the last).
   */
  select?: PolicySelection;
  seed?: number;
  checkpoint?: CheckpointStore;
  resume?: boolean;
  /** The run's settings, stored in every checkpoint so that a resuming program can compare them (checkpointInfo). */
  config?: Record<string, unknown>;
  progress?: ProgressSink;
  /** Called after every episode; 'stop' ends training (checkpoint written first). */
  onEpisode?: (log: EpisodeLog, nets: GdhpNets) => void | 'stop';
}

/** One episode's record: mean losses (TD residuals), the last weight drift, the behaviour cost. */
export interface EpisodeLog {
  episode: number;
  criticLoss: number;
  costateLoss: number;
  actorLoss: number;
  /** ‖W_t − W_{t−100}‖ of each network at the episode's last multiple of 100 updates (NaN before). */
  drift: { critic: number; costate: number; actor: number };
  /** Mean total stage cost of the episode's behaviour rollouts (exploration included). */
  episodeCost: number;
  updates: number;
  seconds: number;
}

export interface GdhpResult {
  nets: GdhpNets;
  history: EpisodeLog[];
  /** Episodes run in this call (after a resume, those after the checkpoint). */
  episodesRun: number;
  resumedFromEpisode: number;
  updates: number;
  /** Seconds of this call's updates and rollouts; updates per second over them. */
  trainSeconds: number;
  updatesPerSecond: number;
  stopped: boolean;
  /** With `select`: the episode whose networks were restored and every score taken (resumed runs included). */
  selected?: SelectionRecord;
}

const toEpoch = (l: EpisodeLog): EpochLog => ({
  epoch: l.episode,
  lr: NaN,
  loss: l.costateLoss,
  accuracy: NaN,
  seconds: l.seconds,
  samplesPerSecond: l.updates / Math.max(l.seconds, 1e-9),
  metrics: {
    criticLoss: l.criticLoss,
    costateLoss: l.costateLoss,
    actorLoss: l.actorLoss,
    driftCritic: l.drift.critic,
    driftCostate: l.drift.costate,
    driftActor: l.drift.actor,
    episodeCost: l.episodeCost,
    updates: l.updates,
  },
});
const fromEpoch = (e: EpochLog): EpisodeLog => {
  const g = (k: string) => (e.metrics?.[k] ?? NaN) as number;
  return {
    episode: e.epoch,
    criticLoss: g('criticLoss'),
    costateLoss: g('costateLoss'),
    actorLoss: g('actorLoss'),
    drift: { critic: g('driftCritic') ?? NaN, costate: g('driftCostate') ?? NaN, actor: g('driftActor') ?? NaN },
    episodeCost: g('episodeCost'),
    updates: g('updates'),
    seconds: e.seconds,
  };
};

function checkOptions(o: GdhpOptions): void {
  const pos = (k: string, v: number | undefined, int = false) => {
    if (v !== undefined && !(v > 0 && Number.isFinite(v) && (!int || Number.isInteger(v))))
      throw new Error(`GDHP: ${k} must be a positive ${int ? 'integer' : 'number'}, got ${v}`);
  };
  pos('episodes', o.episodes, true);
  for (const k of ['episodeLength', 'parallel', 'updatesPerStep', 'batchSize', 'bufferSize', 'lookahead'] as const)
    pos(k, o[k], true);
  pos('gradClip', o.gradClip);
  if (o.tau !== undefined && !(o.tau > 0 && o.tau <= 1)) throw new Error(`GDHP: tau must be in (0, 1], got ${o.tau}`);
  if (o.gamma !== undefined && !(o.gamma > 0 && o.gamma <= 1))
    throw new Error(`GDHP: gamma must be in (0, 1], got ${o.gamma}`);
  if (o.lrFloor !== undefined && !(o.lrFloor > 0 && o.lrFloor <= 1))
    throw new Error(`GDHP: lrFloor must be in (0, 1], got ${o.lrFloor}`);
  if (o.boxFraction !== undefined && !(o.boxFraction >= 0 && o.boxFraction <= 1))
    throw new Error(`GDHP: boxFraction must be in [0, 1], got ${o.boxFraction}`);
  if (o.exploration !== undefined && !(o.exploration >= 0)) throw new Error('GDHP: exploration must be ≥ 0');
  if (o.select !== undefined) {
    pos('select.every', o.select.every, true);
    if (typeof o.select.score !== 'function') throw new Error('GDHP: select.score must be a function of the nets');
  }
}

function checkBox(plant: Plant, box: { lo: number[]; hi: number[] }): void {
  const ok = (v: number[]) => Array.isArray(v) && v.length === plant.n && v.every(Number.isFinite);
  if (!ok(box.lo) || !ok(box.hi) || box.lo.some((v, i) => v > box.hi[i]))
    throw new Error(`GDHP: trainBox needs lo and hi of ${plant.n} finite values with lo ≤ hi`);
}

/**
 * Trains GDHP on a plant: each episode simulates `parallel` initial states from the box for
 * `episodeLength` steps under π + exploration noise, storing transitions in the replay buffer and
 * running `updatesPerStep` updates per step. Checkpoints (networks, optimizers, buffer, random
 * stream, history) after every episode; with resume, continues exactly where the checkpoint ended.
 */
export function trainGdhp(plant: Plant, opts: GdhpOptions): GdhpResult {
  checkOptions(opts);
  const seed = opts.seed ?? 1,
    arch = opts.arch ?? [64, 64],
    act = opts.activation ?? 'tanh',
    { n, m } = plant;
  const gamma = opts.gamma ?? 1;
  if (opts.trainBox) checkBox(plant, opts.trainBox);
  const drawPlant = opts.trainBox ? { ...plant, box: opts.trainBox } : plant;
  const nets = gdhpNetworks(n, m, arch, act, seed, gamma === 1 ? plant.xRef : undefined);
  const lr =
    typeof opts.lr === 'number' || opts.lr === undefined
      ? { critic: opts.lr, costate: opts.lr, actor: opts.lr }
      : opts.lr;
  const baseLr = { critic: lr.critic ?? 1e-3, costate: lr.costate ?? 1e-3, actor: lr.actor ?? 1e-3 },
    floor = opts.lrFloor ?? 1;
  const optimizers = {
    critic: new Adam(nets.critic.parameters(), { lr: lr.critic ?? 1e-3 }),
    costate: new Adam(nets.costate.parameters(), { lr: lr.costate ?? 1e-3 }),
    actor: new Adam(nets.actor.parameters(), { lr: lr.actor ?? 1e-3 }),
  };
  const st: GdhpState = {
    plant,
    nets,
    optimizers,
    gamma,
    tau: opts.tau ?? 0.05,
    gradClip: opts.gradClip ?? 5,
    targets: opts.targets ?? 'model',
    lookahead: opts.lookahead ?? 1,
  };
  const B = opts.batchSize ?? 64,
    L = opts.episodeLength ?? 50,
    P = opts.parallel ?? 8,
    K = opts.updatesPerStep ?? 1,
    sigma = opts.exploration ?? 0.1,
    boxFraction = opts.boxFraction ?? 0.5;
  const buffer = new ReplayBuffer(opts.bufferSize ?? 20000, n, m);
  const rng = new Rng(seed * 7919 + 17);
  let updates = 0,
    start = 0,
    snap: Record<string, number[]> = {};
  const drift = { critic: NaN, costate: NaN, actor: NaN };
  const history: EpisodeLog[] = [];
  // The selection's best networks and scores travel in the checkpoint, so a resumed run restores the same.
  let best: { episode: number; score: number; nets: Record<string, number[]> } | undefined;
  const scores: { episode: number; score: number }[] = [];
  const loop = {
    batches: () => [],
    stateDict: () => ({ rng: rng.getState(), updates, snap, drift, best, scores }),
    loadStateDict: (s: unknown) => {
      const v = s as {
        rng: number[];
        updates: number;
        snap: Record<string, number[]>;
        drift: typeof drift;
        best?: typeof best;
        scores?: typeof scores;
      };
      rng.setState(v.rng);
      updates = v.updates;
      snap = v.snap;
      Object.assign(drift, Object.fromEntries(Object.entries(v.drift).map(([k, x]) => [k, x ?? NaN])));
      // JSON keeps +∞ as null.
      best = v.best ? { ...v.best, score: v.best.score ?? Infinity } : undefined;
      scores.splice(0, scores.length, ...(v.scores ?? []).map((x) => ({ ...x, score: x.score ?? Infinity })));
    },
  };
  const { actor, ...others } = nets;
  const parts: TrainingParts = { model: actor, modules: { ...others, buffer }, optimizers, sampler: loop };
  if (opts.resume && opts.checkpoint) {
    const bytes = opts.checkpoint.load();
    if (bytes) {
      const s = restore(parts, bytes);
      start = s.epoch;
      history.push(...s.history.map(fromEpoch));
    }
  }
  const t0 = performance.now(),
    updates0 = updates;
  let stopped = false;
  for (let ep = start; ep < opts.episodes; ep++) {
    const te = performance.now();
    let x = drawStates(drawPlant, P, () => rng.random());
    const cost = new Float64Array(P),
      sums = { critic: 0, costate: 0, actor: 0 },
      before = updates;
    const std = sigma / (1 + ep / 10);
    const decay = floor + ((1 - floor) * (1 + Math.cos((Math.PI * ep) / opts.episodes))) / 2;
    for (const k of ['critic', 'costate', 'actor'] as const) optimizers[k].lr = baseLr[k] * decay;
    for (let k = 0; k < L; k++) {
      const u = runNet(actor, x, P, n);
      for (let i = 0; i < u.length; i++) {
        u[i] += std * rng.normal();
        if (plant.uClip !== undefined) u[i] = Math.max(-plant.uClip, Math.min(plant.uClip, u[i]));
      }
      const next = stepRows(plant, x, u, P),
        c = stageCost(plant, x, u, P);
      // A row that leaves 10× the box (or goes non-finite) ends the episode: its transitions teach nothing.
      const span = plant.box.hi.map((h, i) =>
        plant.stateBound !== undefined ? plant.stateBound / 10 : Math.max(1, Math.abs(h), Math.abs(plant.box.lo[i])),
      );
      let escaped = false;
      for (let p = 0; p < P; p++) {
        cost[p] += c[p];
        const row = next.subarray(p * n, p * n + n);
        if (row.some((v, i) => !(Math.abs(v) < 10 * span[i]))) escaped = true;
        else buffer.push(x.subarray(p * n, p * n + n), u.subarray(p * m, p * m + m), row);
      }
      for (let j = 0; j < K && buffer.size >= Math.min(B, 16); j++) {
        const batch = buffer.sample(B, rng);
        if (st.targets === 'model' && boxFraction > 0) {
          const k = Math.round(B * boxFraction);
          batch.x.set(drawStates(drawPlant, k, () => rng.random()));
        }
        const r = gdhpUpdate(st, batch, B);
        sums.critic += r.critic;
        sums.costate += r.costate;
        sums.actor += r.actor;
        if (++updates % 100 === 0) {
          for (const key of ['critic', 'costate', 'actor'] as const) {
            const now = flatParams(nets[key]),
              prev = snap[key];
            if (prev) drift[key] = Math.sqrt(now.reduce((s, v, i) => s + (v - prev[i]) ** 2, 0));
            snap[key] = Array.from(now);
          }
        }
      }
      if (escaped) break;
      x = next;
    }
    const du = Math.max(1, updates - before);
    const log: EpisodeLog = {
      episode: ep + 1,
      criticLoss: sums.critic / du,
      costateLoss: sums.costate / du,
      actorLoss: sums.actor / du,
      drift: { ...drift },
      episodeCost: cost.reduce((a, b) => a + b, 0) / P,
      updates: updates - before,
      seconds: (performance.now() - te) / 1000,
    };
    history.push(log);
    if ((ep + 1) % Math.max(1, Math.ceil(opts.episodes / 20)) === 0 || ep + 1 === opts.episodes)
      opts.progress?.write(
        `episode ${ep + 1}/${opts.episodes} critic ${log.criticLoss.toExponential(2)} costate ` +
          `${log.costateLoss.toExponential(2)} actor ${log.actorLoss.toExponential(2)} ` +
          `cost ${log.episodeCost.toFixed(4)}\n`,
      );
    const sel = opts.select;
    if (sel && ((ep + 1) % sel.every === 0 || ep + 1 === opts.episodes)) {
      const raw = sel.score(nets),
        score = Number.isNaN(raw) ? Infinity : raw;
      scores.push({ episode: ep + 1, score });
      // Ties (a run diverging at every check scores +∞ throughout) go to the later, longer-trained networks.
      if (!best || score <= best.score) best = { episode: ep + 1, score, nets: copyNets(nets) };
    }
    const said = opts.onEpisode?.(log, nets);
    opts.checkpoint?.save(
      snapshot(parts, {
        epoch: ep + 1,
        history: history.map(toEpoch),
        best: Infinity,
        bad: 0,
        config: opts.config,
      }),
    );
    if (said === 'stop') {
      stopped = true;
      break;
    }
  }
  const trainSeconds = (performance.now() - t0) / 1000;
  // An interrupted run keeps its last networks: its checkpoint continues from them.
  if (best && !stopped) loadNets(nets, best.nets);
  return {
    nets,
    history,
    episodesRun: history.length - start,
    resumedFromEpisode: start,
    updates,
    trainSeconds,
    updatesPerSecond: (updates - updates0) / Math.max(trainSeconds, 1e-9),
    stopped,
    ...(best ? { selected: { episode: best.episode, score: best.score, scores: [...scores] } } : {}),
  };
}
