// The native kernels (kernels.h: the GEMM, the training attention, SwiGLU, RMSNorm backward, AdamW and transpose)
// on 8-lane AVX2 vectors, as vtb_<name>_avx2 (compiled with -mavx2 -mfma; called only when the CPU has AVX2 and FMA).
#define VTB_AVX2 1
#define VTB_ISA avx2
#include "gemm-impl.h"
#include "attention-impl.h"
#include "ops-impl.h"
