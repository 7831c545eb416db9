// The shipped Fashion-MNIST subset (data/fashion-mnist-subset, served under data/): gzip'd IDX files, unpacked
// with the browser's DecompressionStream and parsed by Frugal's parseIdx.

export const CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

async function idx(F, name) {
  const res = await fetch(`data/${name}`);
  if (!res.ok) throw new Error(`fetching data/${name} failed with ${res.status}`);
  // The whole file first, then gunzip: piping the response itself into the decompressor lets it cancel the
  // download once the gzip stream ends, which the browser logs as an aborted request.
  const gz = new Blob([await res.arrayBuffer()]);
  const raw = await new Response(gz.stream().pipeThrough(new DecompressionStream('gzip'))).arrayBuffer();
  return F.parseIdx(new Uint8Array(raw), name);
}

async function split(F, prefix) {
  const [images, labels] = await Promise.all([
    idx(F, `${prefix}-images-idx3-ubyte.gz`),
    idx(F, `${prefix}-labels-idx1-ubyte.gz`),
  ]);
  const [count, h, w] = images.dims;
  if (labels.dims[0] !== count) throw new Error(`${prefix}: ${count} images but ${labels.dims[0]} labels`);
  return { images: images.data, labels: labels.data, count, sampleShape: [1, h, w], classes: 10 };
}

/** The subset's training and test sets as Frugal ImageDatasets. */
export async function loadSubset(F) {
  const [train, test] = await Promise.all([split(F, 'train'), split(F, 't10k')]);
  return { train, test };
}
