#include "open_path.hpp"

#include <cctype>

namespace gui {
namespace {

bool ends_with(const std::string& s, const char* suffix) {
  const size_t n = std::char_traits<char>::length(suffix);
  if (s.size() < n) return false;
  for (size_t i = 0; i < n; ++i)
    if (std::tolower(static_cast<unsigned char>(s[s.size() - n + i])) != suffix[i]) return false;
  return true;
}

}  // namespace

FileKind file_kind(const std::string& path) {
  if (ends_with(path, ".safetensors.index.json")) return FileKind::Weights;  // a sharded checkpoint's index
  if (ends_with(path, ".json")) return FileKind::Session;
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
    case FileKind::Image:
      t.image_path = path;
      if (!is_image_source(t.source) && t.source != Source::Vit) t.source = Source::Similarity;
      break;
  }
  s.selection.queries.clear();
  s.attention.hidden_keys.clear();
}

}  // namespace gui
