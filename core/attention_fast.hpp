#pragma once
// The engine's fast paths for dot-product scores, behind attention.hpp's
// functions (which validate the arguments first). Vectorised kernels chosen
// at run time (simd/kernels.hpp), the products of gemm.hpp, both cores.
//
// Which path a problem takes:
//   - a few query rows (a click): each row's scores straight from K's rows,
//     O(H · Nk · d) time, no Nk x Nk memory;
//   - many rows, weights kept: blocks of query rows, scores and weights
//     written into the result, the block's output while it is in cache;
//   - many rows, output only: softmax rows online over blocks of keys
//     (Milakov & Gimelshein 2018; Dao et al. 2022, "FlashAttention"), so
//     memory is O(N · d) plus one block per thread; other normalisers use
//     blocks of whole rows, O(block · Nk).
// Each is tested against the double-precision reference (tests/core).
#include <cstddef>
#include <functional>

#include "attention.hpp"

namespace attn::detail {

// Weights from logits, rows [0, nq) of [nq, nk] with row strides; row i is
// query first_query + i of the whole problem (for the mask). Throws
// attn::Error when a score is NaN or infinite. Runs on the thread pool.
void normalise_rows(const float* z, std::ptrdiff_t ldz, int nq, int nk, Norm norm, double temperature, const Mask& mask,
                    int first_query, float* w, std::ptrdiff_t ldw);

// Every head: logits = alpha · Q Kᵀ, weights = normalise(logits / T),
// output = weights · V, into r (heads sized here). q[h] [Nq, d], k[h] [Nk, d],
// v[h] [Nk, d_v] or v empty (no output). The mask is already validated.
void attend_dot(const Heads& q, const Heads& k, const Heads& v, float alpha, Norm norm, double temperature,
                const Mask& mask, int first_query, MultiHeadResult& r);

// Softmax attention for a model's layer, the logits not kept: out [Nq,
// H · d_v] (heads concatenated; resized), and each head's weights handed to
// store(h, row0, rows, w) a block of rows at a time (rows x Nk, row-major,
// valid during the call), from several threads at once for disjoint blocks.
// q[h] [Nq, d], k[h] [Nk, d], v[h] [Nk, d_v]; no mask.
using WeightsSink = std::function<void(int head, int row0, int rows, const float* w)>;
void attend_dot_weights(const Heads& q, const Heads& k, const Heads& v, float alpha, double temperature, Matrix& out,
                        const WeightsSink& store);

// Output only: [Nq, H · d_v] with the heads concatenated, no Nq x Nk matrix.
Matrix attend_dot_output(const Heads& q, const Heads& k, const Heads& v, float alpha, Norm norm, double temperature,
                         const Mask& mask, int first_query);

// out = w · v: w [Nq, Nk], v [Nk, d_v], out already [Nq, d_v]. A few rows
// go straight through V's rows (no packing); more use the packed gemm.
void weights_times_v(const Matrix& w, const Matrix& v, Matrix& out);

// A result matrix: uninitialised, or NaN everywhere while
// testing::poison_outputs is on, so that an element the engine forgets to
// write cannot pass a test.
Matrix output_matrix(Eigen::Index rows, Eigen::Index cols);

}  // namespace attn::detail
