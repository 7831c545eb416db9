// A small live line chart on a canvas: a few series sharing an x axis (training steps), each with its own
// y range, redrawn whole on every update (a few hundred points at most).

const COLORS = ['#c0392b', '#2471a3', '#1e8449', '#7d3c98'];

export class LineChart {
  /** series: [{ name, min?, max?, format? }]; min/max fix the y range (else it follows the data). */
  constructor(canvas, series) {
    this.canvas = canvas;
    this.series = series.map((s, i) => ({ ...s, color: COLORS[i % COLORS.length], points: [] }));
    this.xMax = 1;
    this.draw();
  }

  clear() {
    for (const s of this.series) s.points = [];
    this.xMax = 1;
    this.draw();
  }

  add(name, x, y) {
    const s = this.series.find((t) => t.name === name);
    s.points.push([x, y]);
    this.xMax = Math.max(this.xMax, x);
  }

  setXMax(x) {
    this.xMax = Math.max(1, x);
  }

  draw() {
    const c = this.canvas,
      g = c.getContext('2d'),
      dpr = window.devicePixelRatio || 1;
    const W = c.clientWidth || 480,
      H = c.clientHeight || 200;
    if (c.width !== W * dpr) [c.width, c.height] = [W * dpr, H * dpr];
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, W, H);
    const L = 8,
      R = 8,
      T = 22,
      B = 18;
    g.strokeStyle = '#bbb';
    g.strokeRect(L, T, W - L - R, H - T - B);
    g.font = '12px system-ui, sans-serif';
    g.fillStyle = '#555';
    g.fillText('step', W - R - 28, H - 4);
    let legend = L;
    for (const s of this.series) {
      const ys = s.points.map((p) => p[1]);
      const lo = s.min ?? Math.min(...ys, Infinity),
        hi = s.max ?? Math.max(...ys, -Infinity);
      const span = hi > lo ? hi - lo : 1;
      g.strokeStyle = s.color;
      g.lineWidth = 1.5;
      g.beginPath();
      s.points.forEach(([x, y], i) => {
        const px = L + (x / this.xMax) * (W - L - R),
          py = T + (1 - (y - lo) / span) * (H - T - B);
        if (i) g.lineTo(px, py);
        else g.moveTo(px, py);
      });
      g.stroke();
      const last = s.points.at(-1);
      const label = `${s.name}${last ? ' ' + (s.format ?? ((v) => v.toFixed(3)))(last[1]) : ''}`;
      g.fillStyle = s.color;
      g.fillText(label, legend, 14);
      legend += g.measureText(label).width + 16;
    }
  }
}
