// The GEMM, the training attention, SwiGLU, RMSNorm backward, AdamW and transpose on 8-lane AVX2 vectors (compiled with -mavx2 -mfma; called only when the
// CPU has AVX2 and FMA).
#define VTB_AVX2 1
#define VTB_ATTN_FWD vtb_attn_fwd_avx2
#define VTB_ATTN_BWD vtb_attn_bwd_avx2
#define VTB_SWIGLU_FWD vtb_swiglu_fwd_avx2
#define VTB_SWIGLU_BWD vtb_swiglu_bwd_avx2
#define VTB_RMSNORM_BWD vtb_rmsnorm_bwd_avx2
#define VTB_ADAMW vtb_adamw_avx2
#define VTB_TRANSPOSE vtb_transpose_avx2
#include "gemm-impl.h"
#include "attention-impl.h"
#include "ops-impl.h"
