// A trained controller as bytes (safetensors): the three networks, the plant it was trained on and
// the recipe, so `frugal control rollout` rebuilds the same policy. Browser-safe: no file access.
import { decodeSafetensors, encodeSafetensors, tensorsOf } from '../../io/safetensors.js';
import type { Tensor } from '../../core/tensor.js';
import { linearPlant, type Plant } from './plant.js';
import { shippedPlant } from './systems.js';
import { gdhpNetworks, type GdhpNets } from './gdhp.js';
import type { ActivationName, Architecture } from './networks.js';
import type { LinearSystem } from './dare.js';

/** A shipped plant by name, or a linear discrete-time plant {A, B, Q, R}. */
export type PlantSpec = { system: 'lqr' | 'nonlinear' | 'cstr' } | { linear: LinearSystem };

/** Builds the plant a spec names (a linear one is checked: shapes, Q ⪰ 0, R ≻ 0). */
export function plantFromSpec(s: PlantSpec): Plant {
  return 'linear' in s ? linearPlant(s.linear, { name: 'linear' }) : shippedPlant(s.system);
}

/**
 * Reads a plant JSON object: `{ "A": [[…]], "B": [[…]], "Q": [[…]], "R": [[…]] }` (discrete time,
 * x' = Ax + Bu, cost xᵀQx + uᵀRu). `where` names the file in messages.
 */
export function parsePlantJson(text: string, where: string): PlantSpec {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new Error(`${where} is not valid JSON: ${(e as Error).message}`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v))
    throw new Error(`${where} must hold an object { "A": [[…]], "B": [[…]], "Q": [[…]], "R": [[…]] }`);
  const o = v as Record<string, unknown>;
  const missing = ['A', 'B', 'Q', 'R'].filter((k) => !(k in o));
  if (missing.length)
    throw new Error(`${where} lacks ${missing.join(', ')}: a linear plant is { "A", "B", "Q", "R" } (discrete time)`);
  const extra = Object.keys(o).filter((k) => !['A', 'B', 'Q', 'R'].includes(k));
  if (extra.length) throw new Error(`${where} has unknown field(s) ${extra.join(', ')}; only A, B, Q, R are read`);
  const linear = o as unknown as LinearSystem;
  linearPlant(linear, { name: where }); // checks shapes and definiteness, naming the file
  return { linear };
}

/** What a controller file records besides the weights. */
export interface ControllerMeta {
  format: 'frugal-controller';
  version: 1;
  plant: PlantSpec;
  arch: Architecture;
  activation: ActivationName;
  gamma: number;
  /** Anything else worth keeping (training summary, gains). */
  info?: Record<string, unknown>;
}

/** Encodes the trained networks (not the targets) and the metadata. */
export function encodeController(nets: GdhpNets, meta: ControllerMeta): Uint8Array {
  const entries: Record<string, Tensor> = {};
  for (const k of ['actor', 'critic', 'costate'] as const)
    for (const [name, t] of Object.entries(nets[k].stateDict())) entries[`${k}.${name}`] = t;
  return encodeSafetensors(entries, { 'frugal.controller': JSON.stringify(meta) });
}

/** Decodes a controller file: its metadata, plant and networks (targets are copies of the nets). */
export function decodeController(
  bytes: Uint8Array,
  where = 'controller',
): { meta: ControllerMeta; plant: Plant; nets: GdhpNets } {
  const { entries, metadata } = decodeSafetensors(bytes, where);
  const raw = metadata['frugal.controller'];
  if (!raw)
    throw new Error(
      `${where} is not a controller file (no frugal.controller metadata); train one with frugal control train`,
    );
  const meta = JSON.parse(raw) as ControllerMeta;
  if (meta.format !== 'frugal-controller' || meta.version !== 1)
    throw new Error(`${where}: unsupported controller format ${meta.format} version ${meta.version}`);
  const plant = plantFromSpec(meta.plant);
  const nets = gdhpNetworks(plant.n, plant.m, meta.arch, meta.activation, 1, meta.gamma === 1 ? plant.xRef : undefined);
  const tensors = tensorsOf(entries);
  for (const k of ['actor', 'critic', 'costate'] as const) {
    const sd: Record<string, Tensor> = {};
    for (const [name, t] of Object.entries(tensors)) if (name.startsWith(`${k}.`)) sd[name.slice(k.length + 1)] = t;
    nets[k].loadStateDict(sd);
  }
  return { meta, plant, nets };
}
