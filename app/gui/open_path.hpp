#pragma once
// What opening a file does to the settings, by the file's kind: the same
// for the command line, the file dialog, a drop on the window and a
// second launch.
#include <string>

#include "settings.hpp"

namespace gui {

enum class FileKind { Session, Weights, Tensor, Image };
FileKind file_kind(const std::string& path);  // by extension; anything else is an image

// .json: a session (every setting but the window's); .safetensors, a
// sharded model.safetensors.index.json, .pth/.pt/.bin/.ckpt: ViT weights; .npy/.csv: Q, then K, then V as they come (a
// new Q starts over); anything else: an image. Throws attn::Error for a session that cannot be read; the settings are
// then unchanged.
void open_path(Settings& s, const std::string& path);

}  // namespace gui
