# Writes OUT, a C++ source defining `const unsigned char NAME[]` and
# `const unsigned long NAME_size` with the bytes of FILE.
# Run as: cmake -DFILE=... -DOUT=... -DNAME=... -P embed_bytes.cmake
file(READ ${FILE} hex HEX)
string(LENGTH "${hex}" n)
math(EXPR size "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "(0x[0-9a-f][0-9a-f],){32}" "\\0\n" bytes "${bytes}")
file(WRITE ${OUT}.new "// Generated from ${FILE} by embed_bytes.cmake. Do not edit.\nextern const unsigned char ${NAME}[] = {\n${bytes}\n};\nextern const unsigned long ${NAME}_size = ${size};\n")
file(COPY_FILE ${OUT}.new ${OUT} ONLY_IF_DIFFERENT)
