#include "sample_image.hpp"

#include <span>

extern const unsigned char kSamplePng[];
extern const unsigned long kSamplePng_size;

namespace gui {
attn::Image sample_image() { return attn::decode_image(std::span(kSamplePng, kSamplePng_size), "the bundled sample"); }
}  // namespace gui
