// The GEMM and the training attention on 8-lane AVX2 vectors (compiled with -mavx2 -mfma; called only when the
// CPU has AVX2 and FMA).
#define VTB_AVX2 1
#define VTB_ATTN_FWD vtb_attn_fwd_avx2
#define VTB_ATTN_BWD vtb_attn_bwd_avx2
#include "gemm-impl.h"
#include "attention-impl.h"
