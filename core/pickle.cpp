#include "pickle.hpp"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <unordered_map>

#include "error.hpp"
#include "io.hpp"
#include "pickle_text.hpp"

namespace attn::pickle {
namespace {

// The opcodes (CPython's Lib/pickletools.py documents each one).
enum Op : std::uint8_t {
  kMark = '(',
  kStop = '.',
  kPop = '0',
  kPopMark = '1',
  kDup = '2',
  kFloat = 'F',
  kInt = 'I',
  kBinInt = 'J',
  kBinInt1 = 'K',
  kLong = 'L',
  kBinInt2 = 'M',
  kNone = 'N',
  kPersId = 'P',
  kBinPersId = 'Q',
  kReduce = 'R',
  kString = 'S',
  kBinString = 'T',
  kShortBinString = 'U',
  kUnicode = 'V',
  kBinUnicode = 'X',
  kAppend = 'a',
  kBuild = 'b',
  kGlobal = 'c',
  kDict = 'd',
  kEmptyDict = '}',
  kAppends = 'e',
  kGet = 'g',
  kBinGet = 'h',
  kInst = 'i',
  kLongBinGet = 'j',
  kList = 'l',
  kEmptyList = ']',
  kObj = 'o',
  kPut = 'p',
  kBinPut = 'q',
  kLongBinPut = 'r',
  kSetItem = 's',
  kTuple = 't',
  kEmptyTuple = ')',
  kSetItems = 'u',
  kBinFloat = 'G',
  kBinBytes = 'B',
  kShortBinBytes = 'C',
  kProto = 0x80,
  kNewObj = 0x81,
  kExt1 = 0x82,
  kExt2 = 0x83,
  kExt4 = 0x84,
  kTuple1 = 0x85,
  kTuple2 = 0x86,
  kTuple3 = 0x87,
  kNewTrue = 0x88,
  kNewFalse = 0x89,
  kLong1 = 0x8a,
  kLong4 = 0x8b,
  kShortBinUnicode = 0x8c,
  kBinUnicode8 = 0x8d,
  kBinBytes8 = 0x8e,
  kEmptySet = 0x8f,
  kAddItems = 0x90,
  kFrozenSet = 0x91,
  kNewObjEx = 0x92,
  kStackGlobal = 0x93,
  kMemoize = 0x94,
  kFrame = 0x95,
  kByteArray8 = 0x96,
  kNextBuffer = 0x97,
  kReadOnlyBuffer = 0x98,
};

constexpr std::uint32_t kUnknown = 0xffffffff;     // canonical key not computed yet
constexpr std::uint32_t kUnhashable = 0xfffffffe;  // a list, dict or set: not a key

// Python's "surrogatepass": surrogates pass, as pickles may hold them.
bool valid_utf8(std::string_view s) { return invalid_utf8(s, /*surrogates=*/true) == std::string_view::npos; }

class Machine {
 public:
  Machine(std::span<const std::uint8_t> bytes, const std::string& name, const Limits& limits)
      : in_(bytes), name_(name), limits_(limits) {}

  Unpickled run();

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw Error(name_ + ": " + what + " (byte " + std::to_string(op_at_) + ")");
  }

  // Reading the input.
  std::uint64_t left() const { return in_.size() - at_; }
  std::string_view take(std::uint64_t n, const char* what);
  std::uint64_t unsigned_le(int n, const char* what);
  std::string_view line(const char* what);
  std::int64_t decimal(std::string_view text, const char* what) const;

  // Values and the stack.
  Ref add(Value v);
  void push(Ref r);
  size_t fence() const { return marks_.empty() ? 0 : marks_.back(); }
  Ref pop();
  Ref top() const;
  size_t pop_mark();  // the stack index where the mark's items start
  void deepen(Ref container, Ref item);
  Ref container(Kind kind, size_t from);
  void add_to_set(Ref set, Ref item);
  void set_item(Ref dict, Ref key, Ref value);
  std::uint32_t canonical(Ref r);
  Ref memo_get(std::uint64_t index);
  void memo_put(std::uint64_t index);

  // Opcodes that need more than a line.
  void push_int(std::int64_t v);
  void push_text(Kind kind, std::string_view text);
  void push_unicode(std::string_view text, const char* what);
  void push_long(std::string_view bytes);
  void push_escaped_string(std::string_view quoted);
  void push_raw_unicode_escape(std::string_view s);
  void push_global(std::string module, std::string name);
  void reduce();
  void new_object(bool with_kwargs);
  void build();
  void append_items(size_t from);
  void set_items(size_t from);
  void add_items(size_t from);

  std::span<const std::uint8_t> in_;
  const std::string& name_;
  Limits limits_;
  std::uint64_t at_ = 0, op_at_ = 0;
  std::vector<Value> values_;
  std::vector<Ref> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<std::uint64_t, Ref> memo_;
  // Dict and set keys: each hashable value's canonical id (values equal in
  // Python share one), and per container, id -> position in its items.
  std::vector<std::uint32_t> canon_;
  std::unordered_map<std::string, std::uint32_t> interned_;
  std::unordered_map<Ref, std::unordered_map<std::uint32_t, std::uint32_t>> keys_;
};

std::string_view Machine::take(std::uint64_t n, const char* what) {
  if (n > left())
    fail(std::string(what) + " of " + std::to_string(n) + " bytes runs past the end (" + std::to_string(left()) +
         " bytes left)");
  const std::string_view s(reinterpret_cast<const char*>(in_.data() + at_), n);
  at_ += n;
  return s;
}

std::uint64_t Machine::unsigned_le(int n, const char* what) {
  const std::string_view s = take(static_cast<std::uint64_t>(n), what);
  std::uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = v << 8 | static_cast<unsigned char>(s[static_cast<size_t>(i)]);
  return v;
}

std::string_view Machine::line(const char* what) {
  const auto* begin = in_.data() + at_;
  const auto* nl = static_cast<const std::uint8_t*>(std::memchr(begin, '\n', left()));
  if (!nl) fail(std::string("the end comes inside ") + what + "'s line");
  const std::string_view s(reinterpret_cast<const char*>(begin), static_cast<size_t>(nl - begin));
  at_ += s.size() + 1;
  return s;
}

std::int64_t Machine::decimal(std::string_view text, const char* what) const {
  while (!text.empty() && (text.back() == ' ' || text.back() == '\r')) text.remove_suffix(1);
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  std::int64_t v = 0;
  const auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (err == std::errc::result_out_of_range) fail(std::string(what) + " does not fit 64 bits");
  if (err != std::errc() || end != text.data() + text.size() || text.empty())
    fail(std::string(what) + " \"" + printable(text) + "\" is not a decimal integer");
  return v;
}

Ref Machine::add(Value v) {
  if (values_.size() >= limits_.max_values)
    fail("more than " + std::to_string(limits_.max_values) + " values: over the limit");
  if (v.depth > limits_.max_depth)
    fail("pickle nested too deeply (more than " + std::to_string(limits_.max_depth) + ")");
  values_.push_back(std::move(v));
  return static_cast<Ref>(values_.size() - 1);
}

void Machine::push(Ref r) {
  if (stack_.size() >= limits_.max_values)
    fail("stack deeper than " + std::to_string(limits_.max_values) + " values: over the limit");
  stack_.push_back(r);
}

Ref Machine::pop() {
  if (stack_.size() <= fence()) fail("pickle stack underflow");
  const Ref r = stack_.back();
  stack_.pop_back();
  return r;
}

Ref Machine::top() const {
  if (stack_.size() <= fence()) fail("pickle stack underflow");
  return stack_.back();
}

size_t Machine::pop_mark() {
  if (marks_.empty()) fail("pickle stack underflow (no MARK)");
  const size_t from = marks_.back();
  marks_.pop_back();
  return from;
}

void Machine::deepen(Ref container, Ref item) {
  const std::uint32_t d = values_[item].depth + 1;
  if (d > values_[container].depth) {
    if (d > limits_.max_depth) fail("pickle nested too deeply (more than " + std::to_string(limits_.max_depth) + ")");
    values_[container].depth = d;
  }
}

Ref Machine::container(Kind kind, size_t from) {
  Value v;
  v.kind = kind;
  std::uint32_t deepest = 0;
  for (size_t i = from; i < stack_.size(); ++i) deepest = std::max(deepest, values_[stack_[i]].depth);
  v.depth = deepest + 1;
  if (kind == Kind::Tuple || kind == Kind::List)
    v.items.assign(stack_.begin() + static_cast<std::ptrdiff_t>(from), stack_.end());
  const Ref r = add(std::move(v));
  if (kind == Kind::Dict) {
    if ((stack_.size() - from) % 2) fail("DICT with an odd number of items");
    for (size_t i = from; i < stack_.size(); i += 2) set_item(r, stack_[i], stack_[i + 1]);
  } else if (kind == Kind::Set || kind == Kind::FrozenSet) {
    for (size_t i = from; i < stack_.size(); ++i) add_to_set(r, stack_[i]);
  }
  stack_.resize(from);
  return r;
}

// Python's equality for hashable values, as an id: 1, 1.0 and True are one
// key; a tuple is its items' ids; a global, a call or an object is itself.
std::uint32_t Machine::canonical(Ref r) {
  if (canon_.size() < values_.size()) canon_.resize(values_.size(), kUnknown);
  if (canon_[r] != kUnknown) return canon_[r];
  const Value& v = values_[r];
  std::string key;
  auto as_int = [&](std::int64_t i) {
    char digits[24];
    key.push_back('I');
    key.append(digits, std::to_chars(digits, digits + sizeof digits, i).ptr);
  };
  switch (v.kind) {
    case Kind::None:
      key = "N";
      break;
    case Kind::Bool:
    case Kind::Int:
      as_int(v.integer);
      break;
    case Kind::Float:
      if (std::trunc(v.real) == v.real && std::abs(v.real) < 9.2e18) {
        as_int(static_cast<std::int64_t>(v.real));
      } else {
        key = "F" + std::to_string(std::bit_cast<std::uint64_t>(v.real));
      }
      break;
    case Kind::String:
      key = "S" + v.text;
      break;
    case Kind::Bytes:
      key = "B" + v.text;
      break;
    case Kind::Tuple:
    case Kind::FrozenSet: {
      // Items were complete when the tuple was made, so this recursion is as
      // deep as the tuple, which add() limited.
      std::vector<std::uint32_t> ids;
      ids.reserve(v.items.size());
      for (size_t i = 0; i < values_[r].items.size(); ++i) {
        const std::uint32_t id = canonical(values_[r].items[i]);
        if (id == kUnhashable) return canon_[r] = kUnhashable;
        ids.push_back(id);
      }
      if (values_[r].kind == Kind::FrozenSet) std::sort(ids.begin(), ids.end());
      key = values_[r].kind == Kind::Tuple ? "T" : "Z";
      for (std::uint32_t id : ids) key.append(reinterpret_cast<const char*>(&id), sizeof id);
      break;
    }
    case Kind::Global:
      key = "G" + v.text + "\n" + v.name;
      break;
    case Kind::Reduce:
    case Kind::Object:
    case Kind::PersistentId:
      key = std::string("R").append(std::to_string(r));  // (GCC 12 misreads "R" + temporary as overlapping)
      break;
    case Kind::List:
    case Kind::Dict:
    case Kind::Set:
      return canon_[r] = kUnhashable;
  }
  const auto [it, inserted] = interned_.emplace(std::move(key), static_cast<std::uint32_t>(interned_.size()));
  return canon_[r] = it->second;
}

void Machine::set_item(Ref dict, Ref key, Ref value) {
  const std::uint32_t id = canonical(key);
  if (id == kUnhashable)
    fail("a dict key is a " + std::string(values_[key].kind == Kind::List ? "list" : "dict or set") +
         ", which Python cannot hash");
  auto& positions = keys_[dict];
  auto& items = values_[dict].items;
  const auto [it, inserted] = positions.emplace(id, static_cast<std::uint32_t>(items.size()));
  if (inserted) {
    items.push_back(key);
    items.push_back(value);
  } else {
    items[it->second + 1] = value;
  }
  deepen(dict, key);
  deepen(dict, value);
}

void Machine::add_to_set(Ref set, Ref item) {
  const std::uint32_t id = canonical(item);
  if (id == kUnhashable) fail("a set item is a list, dict or set, which Python cannot hash");
  auto& items = values_[set].items;
  if (keys_[set].emplace(id, static_cast<std::uint32_t>(items.size())).second) items.push_back(item);
  deepen(set, item);
}

Ref Machine::memo_get(std::uint64_t index) {
  const auto it = memo_.find(index);
  if (it == memo_.end()) fail("memo entry " + std::to_string(index) + " missing");
  return it->second;
}

void Machine::memo_put(std::uint64_t index) {
  const Ref r = top();
  if (memo_.size() >= limits_.max_values && !memo_.contains(index))
    fail("more than " + std::to_string(limits_.max_values) + " memo entries: over the limit");
  memo_[index] = r;
}

void Machine::push_int(std::int64_t v) {
  Value x;
  x.kind = Kind::Int;
  x.integer = v;
  push(add(std::move(x)));
}

void Machine::push_text(Kind kind, std::string_view text) {
  Value x;
  x.kind = kind;
  x.text = text;
  push(add(std::move(x)));
}

void Machine::push_unicode(std::string_view text, const char* what) {
  if (!valid_utf8(text)) fail(std::string(what) + " is not valid UTF-8");
  push_text(Kind::String, text);
}

// Two's complement, little-endian, of any length: within 64 bits or refused.
void Machine::push_long(std::string_view bytes) {
  const size_t n = bytes.size();
  auto byte = [&](size_t i) { return static_cast<unsigned char>(bytes[i]); };
  if (n > 8) {
    const unsigned char fill = byte(7) & 0x80 ? 0xff : 0x00;
    for (size_t i = 8; i < n; ++i)
      if (byte(i) != fill) fail("an integer of " + std::to_string(n) + " bytes does not fit 64 bits");
  }
  const size_t used = std::min<size_t>(n, 8);
  std::uint64_t u = 0;
  for (size_t i = used; i-- > 0;) u = u << 8 | byte(i);
  if (used > 0 && used < 8 && (byte(used - 1) & 0x80)) u |= ~std::uint64_t{0} << (8 * used);  // sign-extend
  push_int(static_cast<std::int64_t>(u));
}

// Python 2's STRING: escape-decoded, then UTF-8 text as PyTorch loads it.
void Machine::push_escaped_string(std::string_view quoted) {
  const std::string out = escape_decode(quoted, [this](const char* what) { fail(what); });
  push_text(valid_utf8(out) ? Kind::String : Kind::Bytes, out);
}

// Protocol 0's UNICODE.
void Machine::push_raw_unicode_escape(std::string_view s) {
  push_text(Kind::String, raw_unicode_escape_decode(s, [this](const char* what) { fail(what); }));
}

void Machine::push_global(std::string module, std::string global_name) {
  if (!valid_utf8(module) || !valid_utf8(global_name)) fail("a global's module or name is not valid UTF-8");
  Value g;
  g.kind = Kind::Global;
  g.text = std::move(module);
  g.name = std::move(global_name);
  push(add(std::move(g)));
}

void Machine::reduce() {
  const Ref args = pop();
  const Ref callable = pop();
  if (values_[args].kind != Kind::Tuple) fail("REDUCE's arguments are not a tuple");
  Value v;
  if (values_[callable].is_global("collections", "OrderedDict") && values_[args].items.empty()) {
    v.kind = Kind::Dict;  // filled by the SETITEMS that follow
    v.depth = 1;
  } else {
    v.kind = Kind::Reduce;
    v.items = {callable, args};
    v.depth = std::max(values_[callable].depth, values_[args].depth) + 1;
  }
  push(add(std::move(v)));
}

void Machine::new_object(bool with_kwargs) {
  const Ref kwargs = with_kwargs ? pop() : kNoRef;
  const Ref args = pop();
  const Ref cls = pop();
  if (values_[args].kind != Kind::Tuple) fail("NEWOBJ's arguments are not a tuple");
  if (with_kwargs && values_[kwargs].kind != Kind::Dict) fail("NEWOBJ_EX's keyword arguments are not a dict");
  Value v;
  v.kind = Kind::Object;
  v.items = {cls, args};
  if (with_kwargs) v.items.push_back(kwargs);
  for (Ref r : v.items) v.depth = std::max(v.depth, values_[r].depth + 1);
  push(add(std::move(v)));
}

// An object's state is kept as data; a dict's or list's attributes (the
// _metadata of a state dict) are dropped with nothing called.
void Machine::build() {
  const Ref state = pop();
  const Ref target = top();
  const Kind k = values_[target].kind;
  if (k == Kind::Reduce || k == Kind::Object) {
    values_[target].state = state;
    deepen(target, state);
  }
}

// APPENDS, SETITEMS and ADDITEMS go into the lists, dicts and sets they
// name; items given to an opaque object (whose append or __setitem__ would
// run its code) are dropped with it.
void Machine::append_items(size_t from) {
  if (from == 0 || from - 1 < fence()) fail("pickle stack underflow (nothing to append to)");
  const Ref target = stack_[from - 1];
  const Kind k = values_[target].kind;
  if (k == Kind::List) {
    for (size_t i = from; i < stack_.size(); ++i) {
      values_[target].items.push_back(stack_[i]);
      deepen(target, stack_[i]);
    }
  } else if (k != Kind::Reduce && k != Kind::Object) {
    fail("APPEND to a value that is not a list");
  }
  stack_.resize(from);
}

void Machine::set_items(size_t from) {
  if (from == 0 || from - 1 < fence()) fail("pickle stack underflow (no dict to set items in)");
  if ((stack_.size() - from) % 2) fail("SETITEMS with an odd number of items");
  const Ref target = stack_[from - 1];
  const Kind k = values_[target].kind;
  if (k == Kind::Dict) {
    for (size_t i = from; i < stack_.size(); i += 2) set_item(target, stack_[i], stack_[i + 1]);
  } else if (k != Kind::Reduce && k != Kind::Object) {
    fail("SETITEM on a value that is not a dict");
  }
  stack_.resize(from);
}

void Machine::add_items(size_t from) {
  if (from == 0 || from - 1 < fence()) fail("pickle stack underflow (no set to add to)");
  const Ref target = stack_[from - 1];
  const Kind k = values_[target].kind;
  if (k == Kind::Set) {
    for (size_t i = from; i < stack_.size(); ++i) add_to_set(target, stack_[i]);
  } else if (k != Kind::Reduce && k != Kind::Object) {
    fail("ADDITEMS to a value that is not a set");
  }
  stack_.resize(from);
}

Unpickled Machine::run() {
  for (;;) {
    op_at_ = at_;
    if (left() == 0) fail("the pickle ends before its STOP opcode");
    const std::uint8_t op = in_[at_++];
    switch (op) {
      case kProto: {
        const std::uint64_t v = unsigned_le(1, "PROTO");
        if (v > 5) fail("pickle protocol " + std::to_string(v) + " is newer than 5");
        break;
      }
      case kFrame: {
        // Frames only group opcodes for buffered reading; the whole pickle
        // is in memory, so the length is only checked.
        const std::uint64_t n = unsigned_le(8, "FRAME");
        if (n > left()) fail("FRAME of " + std::to_string(n) + " bytes runs past the end");
        break;
      }
      case kStop: {
        Unpickled out;
        out.root = pop();
        out.values = std::move(values_);
        return out;
      }
      case kMark:
        if (marks_.size() >= limits_.max_depth)
          fail("pickle nested too deeply (more than " + std::to_string(limits_.max_depth) + " MARKs open)");
        marks_.push_back(stack_.size());
        break;
      case kPop:
        if (!marks_.empty() && marks_.back() == stack_.size()) {
          marks_.pop_back();
        } else {
          pop();
        }
        break;
      case kPopMark:
        stack_.resize(pop_mark());
        break;
      case kDup:
        push(top());
        break;

      case kNone:
        push(add(Value{}));
        break;
      case kNewTrue:
      case kNewFalse: {
        Value b;
        b.kind = Kind::Bool;
        b.integer = op == kNewTrue;
        push(add(std::move(b)));
        break;
      }
      case kInt: {
        const std::string_view s = line("INT");
        if (s == "00" || s == "01") {
          Value b;
          b.kind = Kind::Bool;
          b.integer = s == "01";
          push(add(std::move(b)));
        } else {
          push_int(decimal(s, "INT"));
        }
        break;
      }
      case kBinInt:
        push_int(static_cast<std::int32_t>(unsigned_le(4, "BININT")));
        break;
      case kBinInt1:
        push_int(static_cast<std::int64_t>(unsigned_le(1, "BININT1")));
        break;
      case kBinInt2:
        push_int(static_cast<std::int64_t>(unsigned_le(2, "BININT2")));
        break;
      case kLong: {
        std::string_view s = line("LONG");
        if (!s.empty() && s.back() == 'L') s.remove_suffix(1);
        push_int(decimal(s, "LONG"));
        break;
      }
      case kLong1:
        push_long(take(unsigned_le(1, "LONG1"), "LONG1"));
        break;
      case kLong4: {
        const auto n = static_cast<std::int32_t>(unsigned_le(4, "LONG4"));
        if (n < 0) fail("LONG4 has a negative length");
        push_long(take(static_cast<std::uint64_t>(n), "LONG4"));
        break;
      }
      case kFloat: {
        std::string_view s = line("FLOAT");
        if (!s.empty() && s.front() == '+') s.remove_prefix(1);
        Value f;
        f.kind = Kind::Float;
        const auto [end, err] = std::from_chars(s.data(), s.data() + s.size(), f.real);
        if (s.empty() || end != s.data() + s.size() || (err != std::errc() && err != std::errc::result_out_of_range))
          fail("FLOAT \"" + printable(s) + "\" is not a number");
        if (err == std::errc::result_out_of_range) {  // as Python: 1e400 is inf, 1e-400 is 0
          const size_t e = s.find_first_of("eE");
          const bool tiny = e != std::string_view::npos && e + 1 < s.size() && s[e + 1] == '-';
          f.real = std::copysign(tiny ? 0.0 : HUGE_VAL, s.front() == '-' ? -1.0 : 1.0);
        }
        push(add(std::move(f)));
        break;
      }
      case kBinFloat: {
        const std::string_view s = take(8, "BINFLOAT");
        std::uint64_t u = 0;
        for (char c : s) u = u << 8 | static_cast<unsigned char>(c);  // big-endian
        Value f;
        f.kind = Kind::Float;
        f.real = std::bit_cast<double>(u);
        push(add(std::move(f)));
        break;
      }

      case kString:
        push_escaped_string(line("STRING"));
        break;
      case kBinString:
      case kShortBinString: {
        const bool short_form = op == kShortBinString;
        const std::uint64_t raw = unsigned_le(short_form ? 1 : 4, "BINSTRING");
        if (!short_form && static_cast<std::int32_t>(raw) < 0) fail("BINSTRING has a negative length");
        const std::string_view s = take(raw, "string");
        push_text(valid_utf8(s) ? Kind::String : Kind::Bytes, s);
        break;
      }
      case kUnicode:
        push_raw_unicode_escape(line("UNICODE"));
        break;
      case kShortBinUnicode:
        push_unicode(take(unsigned_le(1, "SHORT_BINUNICODE"), "string"), "a string");
        break;
      case kBinUnicode:
        push_unicode(take(unsigned_le(4, "BINUNICODE"), "string"), "a string");
        break;
      case kBinUnicode8:
        push_unicode(take(unsigned_le(8, "BINUNICODE8"), "string"), "a string");
        break;
      case kShortBinBytes:
        push_text(Kind::Bytes, take(unsigned_le(1, "SHORT_BINBYTES"), "bytes"));
        break;
      case kBinBytes:
        push_text(Kind::Bytes, take(unsigned_le(4, "BINBYTES"), "bytes"));
        break;
      case kBinBytes8:
        push_text(Kind::Bytes, take(unsigned_le(8, "BINBYTES8"), "bytes"));
        break;
      case kByteArray8:
        push_text(Kind::Bytes, take(unsigned_le(8, "BYTEARRAY8"), "bytearray"));
        break;

      case kEmptyTuple:
        push(container(Kind::Tuple, stack_.size()));
        break;
      case kTuple:
        push(container(Kind::Tuple, pop_mark()));
        break;
      case kTuple1:
      case kTuple2:
      case kTuple3: {
        const size_t n = op - kTuple1 + 1;
        if (stack_.size() < fence() + n) fail("pickle stack underflow");
        push(container(Kind::Tuple, stack_.size() - n));
        break;
      }
      case kEmptyList:
        push(container(Kind::List, stack_.size()));
        break;
      case kList:
        push(container(Kind::List, pop_mark()));
        break;
      case kEmptyDict:
        push(container(Kind::Dict, stack_.size()));
        break;
      case kDict:
        push(container(Kind::Dict, pop_mark()));
        break;
      case kEmptySet:
        push(container(Kind::Set, stack_.size()));
        break;
      case kFrozenSet:
        push(container(Kind::FrozenSet, pop_mark()));
        break;
      case kAppend: {
        const Ref item = pop();
        push(item);
        append_items(stack_.size() - 1);
        break;
      }
      case kAppends:
        append_items(pop_mark());
        break;
      case kSetItem: {
        const Ref value = pop();
        const Ref key = pop();
        push(key);
        push(value);
        set_items(stack_.size() - 2);
        break;
      }
      case kSetItems:
        set_items(pop_mark());
        break;
      case kAddItems:
        add_items(pop_mark());
        break;

      case kGlobal: {
        std::string module(line("GLOBAL"));
        std::string global_name(line("GLOBAL"));
        push_global(std::move(module), std::move(global_name));
        break;
      }
      case kStackGlobal: {
        const Ref global_name = pop();
        const Ref module = pop();
        if (values_[module].kind != Kind::String || values_[global_name].kind != Kind::String)
          fail("STACK_GLOBAL needs two strings");
        push_global(values_[module].text, values_[global_name].text);
        break;
      }
      case kReduce:
        reduce();
        break;
      case kNewObj:
        new_object(false);
        break;
      case kNewObjEx:
        new_object(true);
        break;
      case kBuild:
        build();
        break;
      case kPersId: {
        const std::string_view s = line("PERSID");
        for (char c : s)
          if (static_cast<unsigned char>(c) >= 0x80) fail("PERSID's id is not ASCII");
        push_text(Kind::String, s);
        Value p;
        p.kind = Kind::PersistentId;
        p.items = {pop()};
        p.depth = 1;
        push(add(std::move(p)));
        break;
      }
      case kBinPersId: {
        Value p;
        p.kind = Kind::PersistentId;
        p.items = {pop()};
        p.depth = values_[p.items[0]].depth + 1;
        push(add(std::move(p)));
        break;
      }

      case kGet:
        push(memo_get(static_cast<std::uint64_t>(decimal(line("GET"), "GET's index"))));
        break;
      case kBinGet:
        push(memo_get(unsigned_le(1, "BINGET")));
        break;
      case kLongBinGet:
        push(memo_get(unsigned_le(4, "LONG_BINGET")));
        break;
      case kPut: {
        const std::int64_t i = decimal(line("PUT"), "PUT's index");
        if (i < 0) fail("PUT has a negative index");
        memo_put(static_cast<std::uint64_t>(i));
        break;
      }
      case kBinPut:
        memo_put(unsigned_le(1, "BINPUT"));
        break;
      case kLongBinPut:
        memo_put(unsigned_le(4, "LONG_BINPUT"));
        break;
      case kMemoize:
        memo_put(memo_.size());
        break;

      case kReadOnlyBuffer:
        top();  // marks a buffer read-only: nothing to do with data
        break;
      case kNextBuffer:
        fail("NEXT_BUFFER: the pickle needs out-of-band buffers, which a file cannot supply");
      case kInst:
      case kObj:
        fail(std::string("unsupported pickle opcode ") + (op == kInst ? "INST" : "OBJ") +
             ": it builds an object by calling its class; only data is read");
      case kExt1:
      case kExt2:
      case kExt4:
        fail("unsupported pickle opcode EXT" +
             std::to_string(op == kExt1   ? 1
                            : op == kExt2 ? 2
                                          : 4) +
             ": it names a class through Python's extension registry");
      default: {
        char hex[8];
        std::snprintf(hex, sizeof hex, "0x%02X", op);
        fail(std::string("unsupported pickle opcode ") + hex);
      }
    }
  }
}

}  // namespace

std::string Unpickled::callable_name(Ref r) const {
  const Value& v = values[r];
  if ((v.kind != Kind::Reduce && v.kind != Kind::Object) || v.items.empty()) return "";
  const Value& c = values[v.items[0]];
  return c.kind == Kind::Global ? c.text + "." + c.name : "";
}

std::string Unpickled::describe(Ref r) const {
  const Value& v = values[r];
  switch (v.kind) {
    case Kind::None:
      return "None";
    case Kind::Bool:
      return "a bool";
    case Kind::Int:
      return "an integer";
    case Kind::Float:
      return "a float";
    case Kind::String:
      return "a string";
    case Kind::Bytes:
      return "bytes";
    case Kind::List:
      return "a list";
    case Kind::Tuple:
      return "a tuple";
    case Kind::Dict:
      return "a dict";
    case Kind::Set:
      return "a set";
    case Kind::FrozenSet:
      return "a frozenset";
    case Kind::Global:
      return "the global " + printable(v.text + "." + v.name);
    case Kind::Reduce: {
      const std::string c = callable_name(r);
      return c.empty() ? "a call" : "a call of " + printable(c);
    }
    case Kind::Object: {
      const std::string c = callable_name(r);
      return c.empty() ? "an object" : "a " + printable(c) + " object";
    }
    case Kind::PersistentId:
      return "a persistent id";
  }
  return "a value";
}

Unpickled unpickle(std::span<const std::uint8_t> bytes, const std::string& name, const Limits& limits) {
  return Machine(bytes, name, limits).run();
}

}  // namespace attn::pickle
