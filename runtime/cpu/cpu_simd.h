/* cpu_simd.h - what the hand-vectorized CPU kernels share: eight (and sixteen) floats as one value (the GCC/Clang vector
   extension: AVX registers where the function is compiled for them, two SSE registers otherwise; v8u loads and
   stores at any float alignment), and SQN_ISA_CLONES, which compiles a function for AVX-512, AVX2+FMA and the
   build's baseline and picks one at run time (GCC target_clones; nothing elsewhere or under ASan). */
#ifndef SQN_CPU_SIMD_H
#define SQN_CPU_SIMD_H

typedef float v8 __attribute__((vector_size(32)));
typedef float v8u __attribute__((vector_size(32), aligned(4), may_alias));
/* Four floats: one SSE register. */
typedef float v4 __attribute__((vector_size(16)));
typedef float v4u __attribute__((vector_size(16), aligned(4), may_alias));
/* Sixteen floats: one AVX-512 register where the function is compiled for it, two AVX or four SSE registers
   otherwise. */
typedef float v16 __attribute__((vector_size(64)));
typedef float v16u __attribute__((vector_size(64), aligned(4), may_alias));

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__)
#define SQN_ISA_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define SQN_ISA_CLONES
#endif

/* Outputs at least this large are written with non-temporal (streaming) stores where a kernel can (the final x8
   upsampling, the stem): they cannot stay in the caches anyway, and streaming skips reading each cache line before
   it is written (152 MiB in 6.3 -> 2.0-2.4 ms, 2 threads, on the 2-core development VM). */
enum { CPU_STREAM_MIN_BYTES = 32 << 20 };
#endif
