// The GEMM on 16-lane AVX-512 vectors (compiled with -mavx512f -mfma; called only when the CPU has AVX-512F).
#define VTB_AVX512 1
#include "gemm-impl.h"
