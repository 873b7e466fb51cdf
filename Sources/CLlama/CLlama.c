#include "CLlama.h"

#include <math.h>
#include <stdlib.h>
#include <time.h>

static double clm_now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static llama_token clm_argmax(const float * logits, int32_t n_vocab,
                              const llama_token * banned, int32_t n_banned) {
    llama_token best = 0;
    float best_logit = -INFINITY;
    for (int32_t i = 0; i < n_vocab; i++) {
        if (logits[i] > best_logit) {
            int is_banned = 0;
            for (int32_t b = 0; b < n_banned; b++) {
                if (banned[b] == i) { is_banned = 1; break; }
            }
            if (!is_banned) { best_logit = logits[i]; best = i; }
        }
    }
    return best;
}

clm_bare_result clm_bare_greedy_generate(struct llama_context * ctx,
                                         const llama_token * prompt, int32_t n_prompt,
                                         int32_t n_gen, int32_t n_batch,
                                         const llama_token * banned, int32_t n_banned,
                                         llama_token * out_tokens) {
    clm_bare_result result = {0, 0, 0, 0};
    const struct llama_model * model = llama_get_model(ctx);
    const int32_t n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(model));
    llama_memory_clear(llama_get_memory(ctx), true);

    const double start = clm_now_us();
    for (int32_t done = 0; done < n_prompt; done += n_batch) {
        int32_t n = n_prompt - done < n_batch ? n_prompt - done : n_batch;
        int32_t status = llama_decode(ctx, llama_batch_get_one((llama_token *)prompt + done, n));
        if (status != 0) { result.status = status; return result; }
    }
    llama_token token = clm_argmax(llama_get_logits_ith(ctx, -1), n_vocab, banned, n_banned);
    const double first = clm_now_us();
    result.time_to_first_token_us = first - start;
    if (out_tokens) out_tokens[0] = token;
    result.generated = 1;

    while (result.generated < n_gen) {
        int32_t status = llama_decode(ctx, llama_batch_get_one(&token, 1));
        if (status != 0) { result.status = status; break; }
        token = clm_argmax(llama_get_logits_ith(ctx, -1), n_vocab, banned, n_banned);
        if (out_tokens) out_tokens[result.generated] = token;
        result.generated += 1;
    }
    result.generation_us = clm_now_us() - first;
    return result;
}
