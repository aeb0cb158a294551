// The GEMM and the training attention on 16-lane AVX-512 vectors (compiled with -mavx512f -mfma; called only
// when the CPU has AVX-512F).
#define VTB_AVX512 1
#define VTB_ATTN_FWD vtb_attn_fwd_avx512
#define VTB_ATTN_BWD vtb_attn_bwd_avx512
#include "gemm-impl.h"
#include "attention-impl.h"
