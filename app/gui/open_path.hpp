#pragma once
// What opening a file does to the settings, by the file's kind: the same
// for the command line, the file dialog, a drop on the window and a
// second launch.
#include <string>

#include "settings.hpp"

namespace gui {

enum class FileKind { Session, Weights, Tensor, Tokens, Image };
// By extension (a .json by its first character too: a list is a token
// list, an object a session); anything else is an image.
FileKind file_kind(const std::string& path);

// .json: a session (every setting but the window's); .safetensors, a
// sharded model.safetensors.index.json, .pth/.pt/.bin/.ckpt: ViT weights; .npy/.csv: Q, then K, then V as they come (a
// new Q starts over); anything else: an image. Throws attn::Error for a session that cannot be read; the settings are
// then unchanged.
// .txt (or a .json list): a token list; with one .npy opened just before
// it, that .npy becomes imported word attention (Source::Words).
void open_path(Settings& s, const std::string& path);

// Imported words: a token list (as above), or an attention file (.npy,
// .safetensors), whose token list is looked for beside it (STEM.txt,
// STEM.json, tokens.txt, tokens.json). The source becomes Words once both
// are known. Throws attn::Error for a token list with no attention.
void open_words(Settings& s, const std::string& path);
// The token list beside an attention file, or "".
std::string tokens_beside(const std::string& attention_path);

}  // namespace gui
