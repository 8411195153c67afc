#pragma once
// Memory budgets: one rule, and one message, for every front end that keeps
// large matrices (the CLI's attend, the app's matrix view, a ViT's maps).
#include <cstdint>
#include <string>

namespace attn {

// What the full N x N attention matrices may take by default.
inline constexpr double kMatrixBudgetBytes = 1024.0 * 1024 * 1024;

// Bytes of `matrices` float matrices of rows x cols.
inline double matrix_bytes(double matrices, double rows, double cols) { return 4.0 * matrices * rows * cols; }

// Throws attn::Error "`what` would need X, more than the Y `limit_name`;
// `remedy`" when bytes > budget.
void check_budget(double bytes, double budget, const std::string& what, const std::string& limit_name,
                  const std::string& remedy);

}  // namespace attn
