#pragma once
// The engine's error policy, one rule for the whole of core/:
//  - Anything that comes from outside (files, user values, shapes that do not
//    fit together) throws attn::Error with a message that names the file or
//    the argument and says what is wrong. Front ends catch it at one boundary
//    and show the message (the CLI exits 3; the GUI keeps its state).
//  - A broken contract between our own functions (a caller passing a shape it
//    was documented not to pass) is a bug: assert.
#include <stdexcept>
#include <string>

namespace attn {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace attn
