// The GEMM on 8-lane AVX2 vectors (compiled with -mavx2 -mfma; called only when the CPU has AVX2 and FMA).
#define VTB_AVX2 1
#include "gemm-impl.h"
