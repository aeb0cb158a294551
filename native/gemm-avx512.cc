// The GEMM, the training attention, SwiGLU, RMSNorm backward, AdamW and transpose on 16-lane AVX-512 vectors (compiled with -mavx512f -mfma; called only
// when the CPU has AVX-512F).
#define VTB_AVX512 1
#define VTB_ATTN_FWD vtb_attn_fwd_avx512
#define VTB_ATTN_BWD vtb_attn_bwd_avx512
#define VTB_SWIGLU_FWD vtb_swiglu_fwd_avx512
#define VTB_SWIGLU_BWD vtb_swiglu_bwd_avx512
#define VTB_RMSNORM_BWD vtb_rmsnorm_bwd_avx512
#define VTB_ADAMW vtb_adamw_avx512
#define VTB_TRANSPOSE vtb_transpose_avx512
#include "gemm-impl.h"
#include "attention-impl.h"
#include "ops-impl.h"
