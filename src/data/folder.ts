// A folder of images, one sub-folder per class (as Keras's image_dataset_from_directory reads): the class
// names are the sub-folder names in sorted order; every image is resized to the first image's size by area
// averaging; the samples are gray unless some image has colour, then RGB.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ImageDataset } from './dataset.js';
import { hasColour, imageToSample, readImageFile, type RgbaImage } from './image-file.js';

export class FolderError extends Error {}

const IMAGE = /\.(png|jpe?g)$/i;

function subfolders(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => !n.startsWith('.') && statSync(join(dir, n)).isDirectory())
    .sort();
}

/** Whether `dir` holds `train/` and `test/` sub-folders, each with one sub-folder per class. */
export function hasTrainTest(dir: string): boolean {
  const subs = subfolders(dir);
  return subs.includes('train') && subs.includes('test');
}

/**
 * Read `dir`/CLASS/*.png|jpg into a dataset. `classNames` (a model's) numbers the classes; a folder not
 * among them is refused. `sampleShape` fixes [C, H, W] (default: the first image's size, gray or RGB).
 */
export function loadImageFolder(
  dir: string,
  o: { classNames?: string[]; sampleShape?: number[]; maxImages?: number } = {},
): ImageDataset {
  let classes: string[];
  try {
    classes = subfolders(dir);
  } catch (e) {
    throw new FolderError(`folder:${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (classes.length === 0)
    throw new FolderError(`folder:${dir} has no sub-folders; put each class's images in a sub-folder named after it`);
  const names = o.classNames ?? classes;
  const files: { path: string; label: number }[] = [];
  for (const c of classes) {
    const label = names.indexOf(c);
    if (label < 0)
      throw new FolderError(`folder:${dir}: sub-folder ${c} is not one of the model's classes (${names.join(', ')})`);
    for (const f of readdirSync(join(dir, c)).sort()) if (IMAGE.test(f)) files.push({ path: join(dir, c, f), label });
  }
  if (files.length === 0) throw new FolderError(`folder:${dir}: no .png, .jpg or .jpeg images in its sub-folders`);
  if (files.length > (o.maxImages ?? 1e6))
    throw new FolderError(`folder:${dir}: ${files.length} images is more than the ${o.maxImages ?? 1e6} read at once`);
  if (names.length > 256) throw new FolderError(`folder:${dir}: ${names.length} classes (at most 256)`);
  const decoded: RgbaImage[] = files.map((f) => readImageFile(f.path));
  const shape = o.sampleShape ?? [decoded.some(hasColour) ? 3 : 1, decoded[0].height, decoded[0].width];
  const size = shape.reduce((a, b) => a * b, 1);
  const images = new Uint8Array(files.length * size);
  const labels = new Uint8Array(files.length);
  decoded.forEach((img, i) => {
    const x = imageToSample(img, shape);
    // Back to bytes (the dataset keeps pixels as uint8; batches divide by 255 again).
    for (let k = 0; k < size; k++) images[i * size + k] = Math.round(x[k] * 255);
    labels[i] = files[i].label;
  });
  return { images, labels, count: files.length, sampleShape: shape, classes: names.length, classNames: names };
}
