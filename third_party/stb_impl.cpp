// The one translation unit that compiles Debian's stb_image (v2.27) and
// stb_image_write. Hardening (see ../shared/reference/bad-inputs.md):
//  - only the PNG and BMP decoders are compiled in: GIF, PNM, HDR, TGA, PSD
//    and PIC, the decoders with known memory-safety bugs, do not exist here,
//    and neither does JPEG (fuzzing found stbi__build_huffman writing past
//    its table in this version; core/jpeg.cpp uses libjpeg-turbo instead);
//  - no stdio: core/image.cpp reads files itself, with a size limit;
//  - STBI_MAX_DIMENSIONS bounds each side before any allocation. core/image.cpp
//    additionally checks the pixel count through stbi_info_from_memory before
//    decoding, always asks for 8-bit RGBA and never sets flip-on-load.
#define STBI_ONLY_PNG
#define STBI_ONLY_BMP
#define STBI_NO_STDIO
#define STBI_NO_LINEAR
#define STBI_NO_HDR
#define STBI_MAX_DIMENSIONS (1 << 15)
#define STBI_FAILURE_USERMSG
#define STB_IMAGE_IMPLEMENTATION
#include <stb/stb_image.h>

#define STBI_WRITE_NO_STDIO
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>
