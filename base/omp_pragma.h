/* omp_pragma.h - OMP(parallel for ...) writes an OpenMP pragma where the build has OpenMP and nothing where
   it does not, so a loop reads the same either way. */
#ifndef SQN_OMP_PRAGMA_H
#define SQN_OMP_PRAGMA_H
#ifdef _OPENMP
#define OMP(directive) _Pragma(#directive)
#else
#define OMP(directive)
#endif
#endif
