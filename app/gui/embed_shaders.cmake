# Writes OUT, a C++ source defining one string per shader file:
#   extern const char* const kShader_<name>;   (name: file name, '.' -> '_')
# Run as: cmake -DOUT=... -DFILES="a|b" -P embed_shaders.cmake
string(REPLACE "|" ";" FILES "${FILES}")
set(text "// Generated from shaders/*.glsl by embed_shaders.cmake. Do not edit.\n#include \"gl_shaders.hpp\"\nnamespace gui {\n")
foreach(f ${FILES})
  file(READ ${f} body)
  get_filename_component(name ${f} NAME)
  string(REPLACE "." "_" name ${name})
  string(APPEND text "const char* const kShader_${name} = R\"glsl(${body})glsl\";\n")
endforeach()
string(APPEND text "}  // namespace gui\n")
file(WRITE ${OUT}.new "${text}")
file(COPY_FILE ${OUT}.new ${OUT} ONLY_IF_DIFFERENT)
