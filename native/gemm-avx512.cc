// The native kernels (kernels.h: the GEMM, the training attention, SwiGLU, RMSNorm backward, AdamW and transpose)
// on 16-lane AVX-512 vectors, as vtb_<name>_avx512 (compiled with -mavx512f -mfma; called only when the CPU has
// AVX-512F).
#define VTB_AVX512 1
#define VTB_ISA avx512
#include "gemm-impl.h"
#include "attention-impl.h"
#include "ops-impl.h"
