#pragma once
// Python pickles (protocols 0 to 5) read as data, never run as a program.
//
// A pickle is a program for a small stack machine whose instructions may
// import any global and call it (os.system, builtins.eval, ...). This
// machine runs the instructions that build data (numbers, strings, bytes,
// tuples, lists, dicts, sets, the memo, persistent ids) and keeps everything
// else as inert values: a GLOBAL is a (module, name) pair, a REDUCE is the
// pair (callable, arguments), a NEWOBJ is an opaque object, a BUILD records
// the object's state; nothing is imported, called or constructed. The one
// exception is collections.OrderedDict(), which becomes a plain (ordered)
// dict because the pickle goes on to fill it with SETITEMS. INST, OBJ and
// the extension registry's EXT opcodes are refused; so are out-of-band
// buffers.
//
// Values live in one array and refer to each other by index, so sharing
// through the memo costs nothing, a list may contain itself, and freeing
// never recurses. Limits: containers nested at most max_depth deep (and at
// most max_depth MARKs open), at most max_values values, memo entries and
// stack slots, every length checked against the bytes that remain, integers
// within 64 bits. Every failure throws attn::Error naming `name`, the
// problem and the byte where it happened.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace attn::pickle {

struct Limits {
  std::uint32_t max_depth = 1000;
  std::uint64_t max_values = 4'000'000;
};

using Ref = std::uint32_t;  // a value's index in Unpickled::values
inline constexpr Ref kNoRef = 0xffffffff;

enum class Kind : std::uint8_t {
  None,
  Bool,
  Int,
  Float,
  String,  // UTF-8
  Bytes,   // bytes, bytearray, and Python 2 strings that are not UTF-8
  List,
  Tuple,
  Dict,  // insertion-ordered; a key set twice keeps its place and takes the new value
  Set,
  FrozenSet,
  Global,        // a class or function named by module and name, never imported
  Reduce,        // callable(*args), never called
  Object,        // cls.__new__(cls, *args, **kwargs), never constructed
  PersistentId,  // an object the pickle names by id (PyTorch: a storage)
};

struct Value {
  Kind kind = Kind::None;
  std::uint32_t depth = 0;   // containers: 1 + the depth of their deepest item when it was added
  std::int64_t integer = 0;  // Bool (0 or 1), Int
  double real = 0;           // Float
  std::string text;          // String, Bytes; Global: the module
  std::string name;          // Global: the name inside the module
  // List, Tuple, Set, FrozenSet: the items. Dict: key, value, key, value...
  // Reduce: callable, args (a tuple). Object: class, args[, kwargs].
  // PersistentId: the id.
  std::vector<Ref> items;
  Ref state = kNoRef;  // Reduce, Object: the state a BUILD gave them

  bool is_global(std::string_view module, std::string_view global_name) const {
    return kind == Kind::Global && text == module && name == global_name;
  }
};

struct Unpickled {
  std::vector<Value> values;
  Ref root = kNoRef;  // what STOP returned

  const Value& operator[](Ref r) const { return values[r]; }
  // The callable of a Reduce or the class of an Object when it is a Global
  // ("module.name"), else empty.
  std::string callable_name(Ref r) const;
  // For messages: "a dict", "a list", "a call of argparse.Namespace", ...
  std::string describe(Ref r) const;
};

Unpickled unpickle(std::span<const std::uint8_t> bytes, const std::string& name, const Limits& limits = {});

}  // namespace attn::pickle
