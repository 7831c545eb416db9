// gcc -O2 -mavx512f -mfma bench/native-peak.c -o /tmp/native-peak && /tmp/native-peak
// One core's native FMA throughput with 128-, 256- and 512-bit vectors (12 independent a = a·x + y chains
// each), to compare with the WebAssembly peak (bench/peak.ts, the same loop in SIMD128): what bounds Frugal's
// inference against onnxruntime-node, which uses the widest vectors the CPU has (issue 27).
#include <immintrin.h>
#include <stdio.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

#define F(k) a##k = OP(a##k, x, y);
#define PEAK(T, SET, LANES, NAME)                                                                          \
  {                                                                                                          \
    T x = SET(1.0000001f), y = SET(-0.0000001f);                                                             \
    T a0 = SET(1), a1 = SET(2), a2 = SET(3), a3 = SET(4), a4 = SET(5), a5 = SET(6), a6 = SET(7), a7 = SET(8); \
    T a8 = SET(9), a9 = SET(10), a10 = SET(11), a11 = SET(12);                                               \
    long n = 400000000L / LANES;                                                                             \
    double t0 = now();                                                                                       \
    for (long i = 0; i < n; i++) {                                                                           \
      F(0) F(1) F(2) F(3) F(4) F(5) F(6) F(7) F(8) F(9) F(10) F(11)                                          \
    }                                                                                                        \
    double t = now() - t0;                                                                                   \
    T s = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;                                       \
    float out[16];                                                                                           \
    *(T *)out = s;                                                                                           \
    printf("%s: %.1f GFLOP/s per core (checksum %g)\n", NAME, 2.0 * 12 * n * LANES / t / 1e9, out[0]);       \
  }

int main(void) {
  for (int round = 0; round < 2; round++) {
#define OP _mm_fmadd_ps
    PEAK(__m128, _mm_set1_ps, 4, "128-bit FMA")
#undef OP
#define OP _mm256_fmadd_ps
    PEAK(__m256, _mm256_set1_ps, 8, "256-bit FMA")
#undef OP
#define OP _mm512_fmadd_ps
    PEAK(__m512, _mm512_set1_ps, 16, "512-bit FMA")
#undef OP
  }
  return 0;
}
