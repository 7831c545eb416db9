// The training recipe and evaluation horizon of each shipped plant [OURS]: what `frugal control
// train` and `frugal reproduce gdhp` use unless told otherwise. Chosen on seeds and states that the
// reproduction's test states never include.
import type { GdhpOptions } from './gdhp.js';
import type { Plant } from './plant.js';

export interface Recipe {
  options: Omit<GdhpOptions, 'seed' | 'checkpoint' | 'resume' | 'progress' | 'onEpisode'>;
  /** Closed-loop steps over which costs are compared (test B: 10 s; test C: 2 h). */
  horizon: number;
  /** The same recipe, shortened for --quick. */
  quickEpisodes: number;
}

/** The recipe for a plant: linear plants (test A and plant JSON), 'nonlinear' (B) and 'cstr' (C). */
export function recipeFor(plant: Plant): Recipe {
  if (plant.linear)
    return {
      options: { arch: 'linear', lr: 0.03, tau: 0.1, episodes: 40, episodeLength: 50 },
      horizon: 100,
      quickEpisodes: 40,
    };
  if (plant.name === 'nonlinear')
    return {
      options: { arch: [32, 32], lr: 1e-3, tau: 0.1, episodes: 150, episodeLength: 100 },
      horizon: Math.round(10 / plant.dt),
      quickEpisodes: 25,
    };
  if (plant.name === 'cstr')
    return {
      // τ = 0.1 and a slower actor reach iLQR's cost from some states; without the decay the costate
      // regression left its bound after ~85 episodes and the closed loops diverged (seeds and states apart
      // from the reproduction's held-out ones).
      options: {
        arch: [64, 64],
        lr: { critic: 1e-3, costate: 1e-3, actor: 3e-4 },
        lrFloor: 0.05,
        tau: 0.1,
        gamma: 0.99,
        episodes: 100,
        episodeLength: 120,
        batchSize: 32,
      },
      horizon: Math.round(2 / plant.dt),
      quickEpisodes: 5,
    };
  throw new Error(`no training recipe for plant '${plant.name}'; pass the GDHP options yourself`);
}
