#include "open_path.hpp"

#include <cctype>
#include <cstdio>
#include <filesystem>

#include "core/error.hpp"

namespace gui {
namespace {

bool ends_with(const std::string& s, const char* suffix) {
  const size_t n = std::char_traits<char>::length(suffix);
  if (s.size() < n) return false;
  for (size_t i = 0; i < n; ++i)
    if (std::tolower(static_cast<unsigned char>(s[s.size() - n + i])) != suffix[i]) return false;
  return true;
}

// The first character of a file that is not white space (or a byte-order mark), or 0.
char first_char(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return 0;
  char out = 0;
  for (int i = 0, c; i < 4096 && (c = std::fgetc(f)) != EOF; ++i) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == 0xef || c == 0xbb || c == 0xbf) continue;
    out = static_cast<char>(c);
    break;
  }
  std::fclose(f);
  return out;
}

void open_tokens(Settings& s, const std::string& path) {
  TokenSettings& t = s.tokens;
  // A .npy opened just before, alone: the word attention, not a Q.
  if (t.source == Source::Files && !t.q_path.empty() && t.v_path.empty() && t.k_path == t.q_path &&
      t.q_path.ends_with(".npy"))
    t.words_attn = t.q_path, t.q_path = t.k_path = "";
  if (t.words_attn.empty())
    throw attn::Error(path +
                      ": a token list goes with a word attention file; open that first (File > Open word "
                      "attention)");
  t.words_tokens = path;
  t.source = Source::Words;
  s.selection.words.clear();
}

}  // namespace

std::string tokens_beside(const std::string& attention_path) {
  namespace fs = std::filesystem;
  const fs::path p(attention_path);
  const fs::path stem = p.parent_path() / p.stem();
  std::error_code ec;
  for (const fs::path& c : {fs::path(stem.string() + ".txt"), fs::path(stem.string() + ".json"),
                            p.parent_path() / "tokens.txt", p.parent_path() / "tokens.json"})
    if (fs::is_regular_file(c, ec) && file_kind(c.string()) == FileKind::Tokens) return c.string();
  return "";
}

void open_words(Settings& s, const std::string& path) {
  if (file_kind(path) == FileKind::Tokens) return open_tokens(s, path);
  TokenSettings& t = s.tokens;
  t.words_attn = path;
  t.words_tensor.clear();
  t.words_tokens = tokens_beside(path);
  if (!t.words_tokens.empty()) t.source = Source::Words;
  s.selection.words.clear();
}

FileKind file_kind(const std::string& path) {
  if (ends_with(path, ".safetensors.index.json")) return FileKind::Weights;  // a sharded checkpoint's index
  if (ends_with(path, ".json")) return first_char(path) == '[' ? FileKind::Tokens : FileKind::Session;
  if (ends_with(path, ".txt")) return FileKind::Tokens;
  for (const char* w : {".safetensors", ".pth", ".pt", ".bin", ".ckpt"})
    if (ends_with(path, w)) return FileKind::Weights;
  if (ends_with(path, ".npy") || ends_with(path, ".csv")) return FileKind::Tensor;
  return FileKind::Image;
}

void open_path(Settings& s, const std::string& path) {
  TokenSettings& t = s.tokens;
  switch (file_kind(path)) {
    case FileKind::Session: {
      Settings loaded = load_settings(path, s);
      loaded.window = s.window;  // the window, its panels and the presenter's scale stay as they are
      s = loaded;
      return;
    }
    case FileKind::Weights:
      t.source = Source::Vit;
      s.model.weights = path;
      break;
    case FileKind::Tensor:
      if (t.source != Source::Files || !t.v_path.empty() || t.q_path.empty())
        t.q_path = t.k_path = path, t.v_path.clear();
      else if (t.k_path == t.q_path)
        t.k_path = path;
      else
        t.v_path = path;
      t.source = Source::Files;
      break;
    case FileKind::Tokens:
      return open_tokens(s, path);
    case FileKind::Image:
      t.image_path = path;
      if (!is_image_source(t.source) && t.source != Source::Vit && t.source != Source::Words &&
          t.source != Source::Captioner)
        t.source = Source::Similarity;
      break;
  }
  s.selection.queries.clear();
  s.attention.hidden_keys.clear();
}

}  // namespace gui
