#pragma once
// The bundled sample (assets/sample.png), embedded at build time so the app
// shows something worth looking at from any directory.
#include "core/image.hpp"

namespace gui {
attn::Image sample_image();
}
