// The input pad: draw with the mouse (white on black, as Fashion-MNIST's images are), drop or pick an image
// file, or show a test image; pixels() reads it back as 28×28 values in [0, 1].

export class InputPad {
  constructor(canvas, onChange) {
    this.canvas = canvas;
    this.g = canvas.getContext('2d', { willReadFrequently: true });
    this.onChange = onChange;
    this.clear();
    let drawing = false;
    const at = (e) => {
      const r = canvas.getBoundingClientRect();
      return [((e.clientX - r.left) * canvas.width) / r.width, ((e.clientY - r.top) * canvas.height) / r.height];
    };
    canvas.addEventListener('pointerdown', (e) => {
      drawing = true;
      canvas.setPointerCapture(e.pointerId);
      this.g.beginPath();
      this.g.moveTo(...at(e));
    });
    canvas.addEventListener('pointermove', (e) => {
      if (!drawing) return;
      this.g.lineTo(...at(e));
      this.g.stroke();
    });
    const end = () => {
      if (!drawing) return;
      drawing = false;
      this.onChange();
    };
    canvas.addEventListener('pointerup', end);
    canvas.addEventListener('pointercancel', end);
    canvas.addEventListener('dragover', (e) => e.preventDefault());
    canvas.addEventListener('drop', (e) => {
      e.preventDefault();
      const f = e.dataTransfer.files[0];
      if (f) this.loadFile(f);
    });
  }

  clear() {
    const { g, canvas } = this;
    g.fillStyle = '#000';
    g.fillRect(0, 0, canvas.width, canvas.height);
    g.strokeStyle = '#fff';
    g.lineWidth = canvas.width / 12;
    g.lineCap = g.lineJoin = 'round';
  }

  /** An image file, scaled to fit; a light background (a photo on white) is inverted to Fashion-MNIST's dark one. */
  async loadFile(file) {
    const bmp = await createImageBitmap(file);
    const { g, canvas } = this;
    this.clear();
    const s = Math.min(canvas.width / bmp.width, canvas.height / bmp.height);
    const w = bmp.width * s,
      h = bmp.height * s;
    g.drawImage(bmp, (canvas.width - w) / 2, (canvas.height - h) / 2, w, h);
    const img = g.getImageData(0, 0, canvas.width, canvas.height);
    let sum = 0;
    for (let i = 0; i < img.data.length; i += 4) sum += img.data[i];
    if (sum / (img.data.length / 4) > 127) {
      for (let i = 0; i < img.data.length; i += 4) for (let c = 0; c < 3; c++) img.data[i + c] = 255 - img.data[i + c];
      g.putImageData(img, 0, 0);
    }
    this.onChange();
  }

  /** Show 28×28 grey values (0–255) exactly: each pixel a square block. */
  show(bytes) {
    const { g, canvas } = this;
    const small = new ImageData(28, 28);
    for (let i = 0; i < 784; i++) {
      small.data.set([bytes[i], bytes[i], bytes[i], 255], i * 4);
    }
    const tmp = new OffscreenCanvas(28, 28);
    tmp.getContext('2d').putImageData(small, 0, 0);
    g.imageSmoothingEnabled = false;
    g.drawImage(tmp, 0, 0, canvas.width, canvas.height);
    g.imageSmoothingEnabled = true;
    this.exact = Float32Array.from(bytes, (b) => b / 255);
    this.onChange(true);
  }

  /** The pad as 784 values in [0, 1]: a shown test image exactly, else the canvas averaged down to 28×28. */
  pixels(keepExact = false) {
    if (keepExact && this.exact) return this.exact;
    this.exact = null;
    const tmp = new OffscreenCanvas(28, 28),
      t = tmp.getContext('2d');
    t.imageSmoothingQuality = 'high';
    t.drawImage(this.canvas, 0, 0, 28, 28);
    const d = t.getImageData(0, 0, 28, 28).data;
    return Float32Array.from({ length: 784 }, (_, i) => d[i * 4] / 255);
  }
}
