#pragma once
// What a model's tokens are: one description that every source fills (an
// image's patches, a Vision Transformer's class, distillation and register
// tokens, a caption's words, a pooling probe), so the views, the CLI and the
// app find "the patches", "the class token" or "word 3" the same way for
// every model.
#include <span>
#include <string>
#include <vector>

#include "enum_names.hpp"
#include "patches.hpp"

namespace attn {

enum class TokenKind {
  Class,         // a model's class token ([CLS])
  Distillation,  // DeiT's distillation token
  Register,      // register tokens (Darcet et al. 2023)
  Patch,         // an image patch; Token::cell says which
  Text,          // a word or sub-word; Token::text says which
  Probe,         // a pooling head's learned query (SigLIP, attention pooling)
};
template <>
std::span<const EnumName<TokenKind>> enum_names<TokenKind>();

struct Token {
  TokenKind kind = TokenKind::Patch;
  int cell = -1;     // Patch: the grid cell, row-major (col = cell % cols)
  std::string text;  // Text: the token as shown
};

// An ordered set of tokens, as one axis of an attention tensor sees them.
// Patch tokens sit on `grid`; a set may hold fewer patches than the grid has
// cells (tokens from files are laid out on a grid with empty cells at the end).
struct TokenSet {
  std::vector<Token> tokens;
  PatchGrid grid;  // where the Patch tokens' cells are

  int size() const { return static_cast<int>(tokens.size()); }
  const Token& operator[](int i) const { return tokens[static_cast<size_t>(i)]; }
  // Indices of every token of `kind`, in order.
  std::vector<int> indices_of(TokenKind kind) const;
  // The token at grid cell `cell`, or -1 when no patch token sits there.
  int token_at_cell(int cell) const;
  // The first token of `kind`, or -1.
  int first_of(TokenKind kind) const;
  int count_of(TokenKind kind) const;

  // `count` patch tokens on `grid` (all its cells when count < 0), cell t as token t.
  static TokenSet patches(const PatchGrid& grid, int count = -1);
  // A Vision Transformer's order as attnscope exposes it: `prefix` (class,
  // then distillation) tokens, the grid's patches row-major, then `registers`.
  static TokenSet vit(const PatchGrid& grid, std::span<const TokenKind> prefix, int registers);
  // Words, one token each.
  static TokenSet text(const std::vector<std::string>& words);
};

}  // namespace attn
