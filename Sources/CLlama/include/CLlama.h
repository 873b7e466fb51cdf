// Umbrella header: exposes llama.cpp's C API (installed by scripts/bootstrap) to Swift,
// plus a few small helpers written in C where a plain C loop is the point.
#ifndef CLLAMA_H
#define CLLAMA_H

#include <llama.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Timings of one bare greedy generation (see clm_bare_greedy_generate).
typedef struct clm_bare_result {
    /// Microseconds from the start until the first generated token was chosen
    /// (prompt decode + argmax).
    double time_to_first_token_us;
    /// Microseconds from the first generated token until the last one was chosen.
    double generation_us;
    /// Number of tokens generated (n_gen unless decoding failed).
    int32_t generated;
    /// 0 on success, otherwise the failing llama_decode status.
    int32_t status;
} clm_bare_result;

/// The benchmark baseline: a plain llama.cpp decode loop with greedy argmax over the logits.
/// Clears the context's memory, decodes the prompt in chunks of n_batch, then generates n_gen
/// tokens one llama_decode at a time. Tokens listed in `banned` (end-of-generation tokens)
/// are never chosen, so exactly n_gen tokens are produced.
clm_bare_result clm_bare_greedy_generate(struct llama_context * ctx,
                                         const llama_token * prompt, int32_t n_prompt,
                                         int32_t n_gen, int32_t n_batch,
                                         const llama_token * banned, int32_t n_banned,
                                         llama_token * out_tokens);

#ifdef __cplusplus
}
#endif

#endif
