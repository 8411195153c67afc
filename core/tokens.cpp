#include "tokens.hpp"

#include <algorithm>
#include <array>

namespace attn {

template <>
std::span<const EnumName<TokenKind>> enum_names<TokenKind>() {
  static constexpr std::array<EnumName<TokenKind>, 6> kNames = {{
      {TokenKind::Class, "class", "class token", "The model's class token, which gathers the whole image.", "cls"},
      {TokenKind::Distillation, "distillation", "distillation token", "DeiT's distillation token.", "dist"},
      {TokenKind::Register, "register", "register", "A register token: extra scratch space the model attends to."},
      {TokenKind::Patch, "patch", "image patch", "A square patch of the image."},
      {TokenKind::Text, "text", "word", "A word (or part of one) of a caption or prompt."},
      {TokenKind::Probe, "probe", "pooling probe", "A pooling head's learned query, which summarises the image."},
  }};
  return kNames;
}

std::vector<int> TokenSet::indices_of(TokenKind kind) const {
  std::vector<int> out;
  for (int i = 0; i < size(); ++i)
    if (tokens[static_cast<size_t>(i)].kind == kind) out.push_back(i);
  return out;
}

int TokenSet::token_at_cell(int cell) const {
  // Patch tokens are contiguous and in cell order in every set we build;
  // check that fast case before searching.
  const int first = first_of(TokenKind::Patch);
  const int at = first + cell;
  if (first >= 0 && cell >= 0 && at < size()) {
    const Token& t = tokens[static_cast<size_t>(at)];
    if (t.kind == TokenKind::Patch && t.cell == cell) return at;
  }
  for (int i = 0; i < size(); ++i)
    if (tokens[static_cast<size_t>(i)].kind == TokenKind::Patch && tokens[static_cast<size_t>(i)].cell == cell)
      return i;
  return -1;
}

int TokenSet::first_of(TokenKind kind) const {
  const auto it = std::find_if(tokens.begin(), tokens.end(), [&](const Token& t) { return t.kind == kind; });
  return it == tokens.end() ? -1 : static_cast<int>(it - tokens.begin());
}

int TokenSet::count_of(TokenKind kind) const {
  return static_cast<int>(std::count_if(tokens.begin(), tokens.end(), [&](const Token& t) { return t.kind == kind; }));
}

TokenSet TokenSet::patches(const PatchGrid& grid, int count) {
  TokenSet s;
  s.grid = grid;
  const int n = count < 0 ? grid.count() : count;
  s.tokens.reserve(static_cast<size_t>(n));
  for (int t = 0; t < n; ++t) s.tokens.push_back({TokenKind::Patch, t, {}});
  return s;
}

TokenSet TokenSet::vit(const PatchGrid& grid, std::span<const TokenKind> prefix, int registers) {
  TokenSet s;
  s.grid = grid;
  for (TokenKind k : prefix) s.tokens.push_back({k, -1, {}});
  for (int t = 0; t < grid.count(); ++t) s.tokens.push_back({TokenKind::Patch, t, {}});
  for (int r = 0; r < registers; ++r) s.tokens.push_back({TokenKind::Register, -1, {}});
  return s;
}

TokenSet TokenSet::text(const std::vector<std::string>& words) {
  TokenSet s;
  for (const auto& w : words) s.tokens.push_back({TokenKind::Text, -1, w});
  return s;
}

}  // namespace attn
