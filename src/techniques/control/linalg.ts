// Small dense float64 matrices as number[][] (row-major rows): what the oracles need and no more.
// Sizes here are a handful of states, so plain O(n³) loops are the clearest choice.

/** A dense matrix: an array of equal-length rows. */
export type Mat = number[][];

export const eye = (n: number): Mat =>
  Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => +(i === j)));
export const zeros = (r: number, c: number): Mat => Array.from({ length: r }, () => new Array<number>(c).fill(0));
export const transpose = (a: Mat): Mat => (a.length ? a[0].map((_, j) => a.map((row) => row[j])) : []);
export const addM = (a: Mat, b: Mat): Mat => a.map((row, i) => row.map((v, j) => v + b[i][j]));
export const subM = (a: Mat, b: Mat): Mat => a.map((row, i) => row.map((v, j) => v - b[i][j]));
export const scaleM = (a: Mat, s: number): Mat => a.map((row) => row.map((v) => v * s));

/** C = A·B. */
export function mm(a: Mat, b: Mat): Mat {
  const n = a.length,
    k = b.length,
    m = k ? b[0].length : 0;
  const c = zeros(n, m);
  for (let i = 0; i < n; i++)
    for (let p = 0; p < k; p++) {
      const v = a[i][p];
      if (v !== 0) for (let j = 0; j < m; j++) c[i][j] += v * b[p][j];
    }
  return c;
}

/** y = A·x. */
export const mv = (a: Mat, x: ArrayLike<number>): number[] => a.map((row) => row.reduce((s, v, j) => s + v * x[j], 0));

/** Frobenius norm ‖A‖_F. */
export const frob = (a: Mat): number => Math.sqrt(a.reduce((s, row) => s + row.reduce((t, v) => t + v * v, 0), 0));

/** Solve A·X = B by Gaussian elimination with partial pivoting; throws on a singular A. */
export function solve(a: Mat, b: Mat): Mat {
  const n = a.length,
    m = b[0].length;
  const M = a.map((row, i) => [...row, ...b[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r][c]) > Math.abs(M[p][c])) p = r;
    const scale = Math.max(1e-300, ...M.map((row) => Math.abs(row[c])));
    if (Math.abs(M[p][c]) <= 1e-14 * scale) throw new Error('solve: the matrix is singular');
    [M[c], M[p]] = [M[p], M[c]];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = M[r][c] / M[c][c];
      if (f !== 0) for (let j = c; j < n + m; j++) M[r][j] -= f * M[c][j];
    }
  }
  return M.map((row, i) => row.slice(n).map((v) => v / M[i][i]));
}

export const inv = (a: Mat): Mat => solve(a, eye(a.length));

/** Eigenvalues of a symmetric matrix (cyclic Jacobi rotations), ascending. */
export function symEigenvalues(a: Mat): number[] {
  const n = a.length,
    A = a.map((r) => [...r]);
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) off += A[i][j] ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < n; p++)
      for (let q = p + 1; q < n; q++) {
        if (Math.abs(A[p][q]) < 1e-300) continue;
        const th = (A[q][q] - A[p][p]) / (2 * A[p][q]);
        const t = Math.sign(th || 1) / (Math.abs(th) + Math.sqrt(th * th + 1));
        const c = 1 / Math.sqrt(t * t + 1),
          s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = A[k][p],
            akq = A[k][q];
          A[k][p] = c * akp - s * akq;
          A[k][q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = A[p][k],
            aqk = A[q][k];
          A[p][k] = c * apk - s * aqk;
          A[q][k] = s * apk + c * aqk;
        }
      }
  }
  return A.map((r, i) => r[i]).sort((x, y) => x - y);
}

/** Throws unless `a` is a finite r×c matrix, naming it as `what`. */
export function checkMatrix(a: unknown, r: number | null, c: number | null, what: string): Mat {
  if (!Array.isArray(a) || !a.length || !a.every((row) => Array.isArray(row)))
    throw new Error(`${what} must be a non-empty array of rows (a matrix), got ${JSON.stringify(a)?.slice(0, 60)}`);
  const rows = a.length,
    cols = (a[0] as unknown[]).length;
  if (!a.every((row) => (row as unknown[]).length === cols))
    throw new Error(`${what}: every row must have the same length (${cols})`);
  if (!a.every((row) => (row as unknown[]).every((v) => typeof v === 'number' && Number.isFinite(v))))
    throw new Error(`${what} holds a value that is not a finite number`);
  if ((r !== null && rows !== r) || (c !== null && cols !== c))
    throw new Error(`${what} must be ${r ?? '?'}×${c ?? '?'}, got ${rows}×${cols}`);
  return a as Mat;
}

/** Throws unless the square matrix is symmetric and positive (semi)definite, naming it and the fix. */
export function checkDefinite(a: Mat, what: string, strict: boolean): void {
  const n = a.length,
    scale = Math.max(1e-300, ...a.flat().map(Math.abs));
  for (let i = 0; i < n; i++)
    for (let j = 0; j < i; j++)
      if (Math.abs(a[i][j] - a[j][i]) > 1e-9 * scale) {
        throw new Error(`${what} must be symmetric (${what}ᵀ = ${what})`);
      }
  const lo = symEigenvalues(a)[0];
  if (strict ? !(lo > 1e-12 * scale) : lo < -1e-9 * scale) {
    throw new Error(
      `${what} must be positive ${strict ? '' : 'semi'}definite (smallest eigenvalue ${lo.toPrecision(4)}); ` +
        (strict ? `every control must cost something: use e.g. ${what} = I` : `a state cost cannot be negative`),
    );
  }
}
