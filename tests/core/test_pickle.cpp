// The pickle machine: every opcode family builds the data Python would,
// nothing is called, and every limit and malformed program gives a message.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <string>

#include "core/error.hpp"
#include "core/pickle.hpp"

namespace {

using attn::pickle::Kind;
using attn::pickle::Ref;
using attn::pickle::Unpickled;
using namespace std::string_literals;

Unpickled run(const std::string& program, const attn::pickle::Limits& limits = {}) {
  return attn::pickle::unpickle({reinterpret_cast<const std::uint8_t*>(program.data()), program.size()}, "t.pkl",
                                limits);
}

// A pickle of protocol 2 around `body`, ending with STOP.
std::string p2(const std::string& body) { return "\x80\x02"s + body + "."; }
// BININT1 n, BINUNICODE s, BINPUT i, BINGET i.
std::string k(int n) { return "K"s + static_cast<char>(n); }
std::string u(const std::string& s) {
  std::string out = "X";
  for (int i = 0; i < 4; ++i) out += static_cast<char>(s.size() >> (8 * i));
  return out + s;
}
std::string put(int i) { return "q"s + static_cast<char>(i); }
std::string get(int i) { return "h"s + static_cast<char>(i); }

std::string fails(const std::string& program, const attn::pickle::Limits& limits = {}) {
  try {
    run(program, limits);
  } catch (const attn::Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("t.pkl: ", 0), 0u) << e.what();
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return "";
}

#define EXPECT_FAILS(program, words, ...) \
  EXPECT_NE(fails(program, ##__VA_ARGS__).find(words), std::string::npos) << fails(program, ##__VA_ARGS__)

std::int64_t int_of(const std::string& program) {
  const Unpickled v = run(program);
  EXPECT_EQ(v[v.root].kind, Kind::Int);
  return v[v.root].integer;
}

std::string text_of(const std::string& program, Kind kind = Kind::String) {
  const Unpickled v = run(program);
  EXPECT_EQ(v[v.root].kind, kind);
  return v[v.root].text;
}

TEST(Pickle, Integers) {
  EXPECT_EQ(int_of(p2(k(7))), 7);
  EXPECT_EQ(int_of(p2("M\x00\x01"s)), 256);
  EXPECT_EQ(int_of(p2("J\xfe\xff\xff\xff"s)), -2);
  EXPECT_EQ(int_of(p2("I-12\n")), -12);
  EXPECT_EQ(int_of(p2("L123456789012L\n")), 123456789012);
  EXPECT_EQ(int_of(p2("\x8a\x00"s)), 0);
  EXPECT_EQ(int_of(p2("\x8a\x01\xff"s)), -1);
  EXPECT_EQ(int_of(p2("\x8a\x02\x00\x80"s)), -32768);
  EXPECT_EQ(int_of(p2("\x8a\x02\x00\x7f"s)), 0x7f00);
  EXPECT_EQ(int_of(p2("\x8a\x08\xff\xff\xff\xff\xff\xff\xff\x7f"s)), INT64_MAX);
  // Nine bytes whose last is only the sign: still 64 bits.
  EXPECT_EQ(int_of(p2("\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x80\xff"s)), INT64_MIN);
  EXPECT_EQ(int_of(p2("\x8b\x02\x00\x00\x00\x34\x12"s)), 0x1234);
  EXPECT_FAILS(p2("\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x01"s), "does not fit 64 bits");
  // The legacy magic number 0x1950a86a20f9469cfc6c is 10 bytes wide.
  EXPECT_FAILS(p2("\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19"s), "does not fit 64 bits");
  EXPECT_FAILS(p2("L99999999999999999999\n"), "does not fit 64 bits");
  EXPECT_FAILS(p2("Ifour\n"), "not a decimal integer");
  EXPECT_FAILS(p2("\x8b\xff\xff\xff\xff"s), "negative length");
  // INT's 00 and 01 are protocol 0's False and True.
  const Unpickled t = run(p2("I01\n"));
  EXPECT_EQ(t[t.root].kind, Kind::Bool);
  EXPECT_EQ(t[t.root].integer, 1);
}

TEST(Pickle, Floats) {
  auto real = [](const std::string& program) {
    const Unpickled v = run(program);
    EXPECT_EQ(v[v.root].kind, Kind::Float);
    return v[v.root].real;
  };
  EXPECT_EQ(real(p2("G\x3f\xf8\x00\x00\x00\x00\x00\x00"s)), 1.5);  // big-endian
  EXPECT_EQ(real(p2("F-0.25\n")), -0.25);
  EXPECT_TRUE(std::isinf(real(p2("Finf\n"))));
  EXPECT_TRUE(std::isinf(real(p2("F1e400\n"))));
  EXPECT_EQ(real(p2("F1e-400\n")), 0.0);
  EXPECT_TRUE(std::isnan(real(p2("Fnan\n"))));
  EXPECT_FAILS(p2("F1.5x\n"), "not a number");
  EXPECT_FAILS("\x80\x02G\x3f\xf8"s, "runs past the end");
}

TEST(Pickle, StringsAndBytes) {
  EXPECT_EQ(text_of(p2(u("abc"))), "abc");
  EXPECT_EQ(text_of(p2("\x8c\x02\xc3\xa9"s)), "\xc3\xa9");
  EXPECT_EQ(text_of(p2("\x8d\x01\x00\x00\x00\x00\x00\x00\x00"s + "z")), "z");
  EXPECT_EQ(text_of(p2("C\x02\x00\xff"s), Kind::Bytes), "\x00\xff"s);
  EXPECT_EQ(text_of(p2("B\x01\x00\x00\x00"s + "q"), Kind::Bytes), "q");
  EXPECT_EQ(text_of(p2("\x8e\x01\x00\x00\x00\x00\x00\x00\x00"s + "q"), Kind::Bytes), "q");
  EXPECT_EQ(text_of(p2("\x96\x01\x00\x00\x00\x00\x00\x00\x00"s + "q"), Kind::Bytes), "q");
  // Python 2 strings: UTF-8 text as PyTorch loads them, else bytes.
  EXPECT_EQ(text_of(p2("U\x02"s + "hi")), "hi");
  EXPECT_EQ(text_of(p2("T\x01\x00\x00\x00\xff"s), Kind::Bytes), "\xff");
  EXPECT_EQ(text_of(p2(R"(S'a\'b\n\x41\101\q')"
                       "\n")),
            "a'b\nAA\\q");
  EXPECT_EQ(text_of(p2("S\"x\"\n")), "x");
  EXPECT_FAILS(p2("Sabc\n"), "not quoted");
  EXPECT_FAILS(p2("S'\\x4'\n"), "invalid \\x escape");
  // Protocol 0 unicode: Latin-1 with \u escapes.
  EXPECT_EQ(text_of(p2("V\xe9\\u20ac\n")), "\xc3\xa9\xe2\x82\xac");
  EXPECT_FAILS(p2("V\\ud800\n"), "invalid code point");
  EXPECT_FAILS(p2("X\x01\x00\x00\x00\xff"s), "not valid UTF-8");
  EXPECT_FAILS(p2("X\x02\x00\x00\x00\xc0\x80"s), "not valid UTF-8");  // overlong
  EXPECT_FAILS(p2("Vabc"), "line");
}

TEST(Pickle, LengthsAreCheckedAgainstWhatRemains) {
  EXPECT_FAILS("\x80\x02X\xf0\xff\xff\xff"s + "w.", "string of 4294967280 bytes runs past the end (2 bytes left)");
  EXPECT_FAILS("\x80\x02\x8e\x00\x00\x00\x00\x00\x00\x00\x40"s + "w.", "runs past the end");
  EXPECT_FAILS("\x80\x02\x8d\xff\xff\xff\xff\xff\xff\xff\xff"s + "w.", "runs past the end");
  EXPECT_FAILS("\x80\x04\x95\xff\xff\xff\xff\x00\x00\x00\x00"s + "N.", "FRAME");
  EXPECT_FAILS("\x80\x02K"s, "runs past the end");
}

TEST(Pickle, Containers) {
  // ((1, 2, 3), [4, 5], {"a": 6}, set {7}, frozenset {8})
  const Unpickled v = run(p2("((" + k(1) + k(2) + k(3) + "t" +  //
                             "]" + k(4) + "a" + k(5) + "a" +    //
                             "}" + u("a") + k(6) + "s" +        //
                             "\x8f(" + k(7) + "\x90" +          //
                             "(" + k(8) + "\x91" + "t"));
  const auto& top = v[v.root];
  ASSERT_EQ(top.kind, Kind::Tuple);
  ASSERT_EQ(top.items.size(), 5u);
  EXPECT_EQ(v[top.items[0]].items.size(), 3u);
  EXPECT_EQ(v[top.items[1]].kind, Kind::List);
  EXPECT_EQ(v[v[top.items[1]].items[1]].integer, 5);
  EXPECT_EQ(v[top.items[2]].kind, Kind::Dict);
  EXPECT_EQ(v[v[top.items[2]].items[0]].text, "a");
  EXPECT_EQ(v[top.items[3]].kind, Kind::Set);
  EXPECT_EQ(v[top.items[4]].kind, Kind::FrozenSet);
  EXPECT_EQ(top.depth, 2u);
  // TUPLE1..3, EMPTY_TUPLE, LIST, DICT, APPENDS, SETITEMS.
  const Unpickled w =
      run(p2("(" + k(1) + "\x85" + k(1) + k(2) + "\x86" + k(1) + k(2) + k(3) + "\x87)" + "(" + k(9) + "l" + "(" + k(1) +
             k(2) + "d" + "](" + k(1) + k(2) + "e" + "}(" + k(1) + k(2) + "u" + "t"));
  const auto& t = w[w.root];
  ASSERT_EQ(t.items.size(), 8u);
  EXPECT_EQ(w[t.items[2]].items.size(), 3u);
  EXPECT_EQ(w[t.items[3]].items.size(), 0u);
  EXPECT_EQ(w[t.items[5]].items.size(), 2u);  // {1: 2}
  EXPECT_EQ(w[t.items[6]].items.size(), 2u);  // [1, 2]
  EXPECT_FAILS(p2("(" + k(1) + k(2) + k(3) + "d"), "odd number");
  EXPECT_FAILS(p2("}(" + k(1) + k(2) + k(3) + "u"), "odd number");
}

TEST(Pickle, DictKeysFollowPythonEquality) {
  // {1: "a", True: "b", 1.0: "c", (1, 2): "d", (1, 2): "e"}: two keys, 1 -> "c", (1, 2) -> "e".
  const Unpickled v = run(p2("}(" + k(1) + u("a") + "\x88" + u("b") + "G\x3f\xf0\x00\x00\x00\x00\x00\x00"s + u("c") +
                             k(1) + k(2) + "\x86" + u("d") + k(1) + k(2) + "\x86" + u("e") + "u"));
  const auto& d = v[v.root];
  ASSERT_EQ(d.items.size(), 4u);
  EXPECT_EQ(v[d.items[0]].kind, Kind::Int);  // the first key stays
  EXPECT_EQ(v[d.items[1]].text, "c");
  EXPECT_EQ(v[d.items[3]].text, "e");
  EXPECT_FAILS(p2("}]" + k(1) + "s"), "cannot hash");
  EXPECT_FAILS(p2("}(]\x85" + k(1) + "u"), "cannot hash");  // a tuple holding a list
  EXPECT_FAILS(p2("\x8f(]\x90"), "cannot hash");
}

TEST(Pickle, MemoAndStackOps) {
  // [x, x, x, x, x] with x memoised by BINPUT, LONG_BINPUT, PUT and MEMOIZE.
  const Unpickled v = run(
      p2("(" + u("x") + put(5) + get(5) + "r\x00\x01\x00\x00"s + "j\x00\x01\x00\x00"s + "p7\ng7\n\x94" + get(3) + "l"));
  const auto& l = v[v.root];
  ASSERT_EQ(l.items.size(), 5u);
  EXPECT_EQ(l.items[0], l.items[4]);  // shared, not copied
  EXPECT_FAILS(p2(get(7)), "memo entry 7 missing");
  EXPECT_FAILS(p2("j\x00\x00\x01\x00"s), "memo entry 65536 missing");
  EXPECT_FAILS(p2("p1\n"), "stack underflow");  // nothing to memoise
  EXPECT_FAILS(p2("Np-1\n"), "negative index");
  // POP, POP_MARK, DUP; POP of an empty mark pops the mark.
  EXPECT_EQ(int_of(p2(k(1) + k(2) + "0")), 1);
  EXPECT_EQ(int_of(p2(k(1) + "(" + k(2) + k(3) + "1")), 1);
  EXPECT_EQ(int_of(p2(k(1) + "(0")), 1);
  const Unpickled d = run(p2(k(1) + "2\x86"));
  EXPECT_EQ(d[d.root].items[0], d[d.root].items[1]);
  EXPECT_FAILS(p2("0"), "stack underflow");
  EXPECT_FAILS(p2("1"), "stack underflow");
  EXPECT_FAILS(p2(k(1) + "(2"), "stack underflow");  // DUP cannot reach below a MARK
  EXPECT_FAILS(p2(k(1) + "(\x85"), "stack underflow");
  EXPECT_FAILS(p2("u"), "stack underflow");
  EXPECT_FAILS("\x80\x02.", "stack underflow");
}

TEST(Pickle, GlobalsAndCallsAreKeptAsDataNeverRun) {
  // os.system("touch x"): a Reduce of a Global, with its arguments.
  const Unpickled v = run(p2("cos\nsystem\n(" + u("touch x") + "tR"));
  const auto& r = v[v.root];
  ASSERT_EQ(r.kind, Kind::Reduce);
  EXPECT_TRUE(v[r.items[0]].is_global("os", "system"));
  EXPECT_EQ(v.callable_name(v.root), "os.system");
  EXPECT_EQ(v.describe(v.root), "a call of os.system");
  // STACK_GLOBAL, NEWOBJ, BUILD: an argparse.Namespace with its state.
  const Unpickled n = run("\x80\x04"s + u("argparse") + u("Namespace") + "\x93)\x81}" + u("lr") + k(1) + "sb.");
  const auto& o = n[n.root];
  ASSERT_EQ(o.kind, Kind::Object);
  EXPECT_EQ(n.describe(n.root), "a argparse.Namespace object");
  ASSERT_NE(o.state, attn::pickle::kNoRef);
  EXPECT_EQ(n[o.state].kind, Kind::Dict);
  // NEWOBJ_EX keeps its keyword arguments.
  const Unpickled x = run(p2("cbuiltins\nobject\n)}\x92"));
  EXPECT_EQ(x[x.root].items.size(), 3u);
  EXPECT_FAILS(p2("cbuiltins\nobject\n)]\x92"), "keyword arguments are not a dict");
  EXPECT_FAILS(p2("cos\nsystem\n]R"), "not a tuple");
  EXPECT_FAILS(p2(k(1) + k(2) + "\x93"), "STACK_GLOBAL needs two strings");
  // collections.OrderedDict() becomes a dict that SETITEMS fills; BUILD on
  // it (a state dict's _metadata) is dropped.
  const Unpickled od = run(p2("ccollections\nOrderedDict\n)R(" + u("k") + k(1) + "u}b"));
  EXPECT_EQ(od[od.root].kind, Kind::Dict);
  EXPECT_EQ(od[od.root].items.size(), 2u);
  // Items given to an opaque object (a defaultdict) are dropped with it.
  const Unpickled dd = run(p2("ccollections\ndefaultdict\n)R(" + u("k") + k(1) + "u"));
  EXPECT_EQ(dd[dd.root].kind, Kind::Reduce);
  EXPECT_TRUE(dd[dd.root].items.size() == 2u);
  EXPECT_FAILS(p2(k(1) + k(2) + "a"), "not a list");
  EXPECT_FAILS(p2(k(1) + k(2) + k(3) + "s"), "not a dict");
  EXPECT_FAILS(p2(k(1) + "(" + k(2) + "\x90"), "not a set");
}

TEST(Pickle, PersistentIds) {
  const Unpickled v = run(p2(std::string("(") + u("storage") + k(0) + "tQ"));
  ASSERT_EQ(v[v.root].kind, Kind::PersistentId);
  EXPECT_EQ(v[v[v.root].items[0]].kind, Kind::Tuple);
  const Unpickled t = run("P0\n.");
  ASSERT_EQ(t[t.root].kind, Kind::PersistentId);
  EXPECT_EQ(t[t[t.root].items[0]].text, "0");
  EXPECT_FAILS(p2("P\xff\n"), "not ASCII");
}

TEST(Pickle, OpcodesOutsideTheDataSubsetAreRefused) {
  EXPECT_FAILS(p2("(" + u("true") + "ios\nsystem\n"), "unsupported pickle opcode INST");
  EXPECT_FAILS(p2("(cos\nsystem\no"), "unsupported pickle opcode OBJ");
  EXPECT_FAILS(p2("\x82\x01"), "EXT1");
  EXPECT_FAILS(p2("\x84\x01\x00\x00\x00"s), "EXT4");
  EXPECT_FAILS(p2("\x97"), "out-of-band buffers");
  EXPECT_FAILS(p2("\xff"), "unsupported pickle opcode 0xFF");
  EXPECT_FAILS("\x80\x06N.", "protocol 6");
  EXPECT_FAILS("\x80\x02N", "ends before its STOP");
  EXPECT_FAILS("", "ends before its STOP");
  // READONLY_BUFFER is a no-op on data; FRAME only groups opcodes.
  EXPECT_EQ(text_of("\x80\x05\x95\x0b\x00\x00\x00\x00\x00\x00\x00\x96\x01\x00\x00\x00\x00\x00\x00\x00"s + "z\x98.",
                    Kind::Bytes),
            "z");
}

TEST(Pickle, LimitsOnDepthValuesAndMemo) {
  const attn::pickle::Limits small{.max_depth = 10, .max_values = 40};
  std::string nine = k(0) + std::string(9, '\x85');
  const Unpickled v = run(p2(nine), small);
  EXPECT_EQ(v[v.root].depth, 9u);
  EXPECT_FAILS(p2(nine + "\x85\x85"), "nested too deeply", small);
  EXPECT_FAILS(p2(std::string(11, '(')), "more than 10 MARKs", small);
  // Depth reached by appending into lists also counts.
  EXPECT_FAILS(p2(std::string(13, ']') + std::string(12, 'a')), "nested too deeply", small);
  EXPECT_FAILS(p2(std::string(41, 'N') + "t"), "more than 40 values", small);
  std::string memo = "N";
  for (int i = 0; i < 41; ++i) memo += put(i);
  EXPECT_FAILS(p2(memo), "memo entries", small);
  EXPECT_FAILS(p2("N" + std::string(41, '2')), "stack deeper than 40", small);
}

TEST(Pickle, BombsFinishAtOnceWithoutRecursion) {
  const auto start = std::chrono::steady_clock::now();
  // 100000 nested 1-tuples, 100000 MARKs, 100000 lists appended one into the next.
  EXPECT_FAILS(p2(k(0) + std::string(100000, '\x85')), "nested too deeply");
  EXPECT_FAILS(p2(std::string(100000, '(')), "MARKs open");
  EXPECT_FAILS(p2(std::string(100000, ']') + std::string(99999, 'a')), "nested too deeply");
  // A list that contains itself, and a chain of lists each appended to the
  // one made before it (a depth the machine cannot see): built, freed flat.
  const Unpickled self = run(p2("]" + put(0) + get(0) + "a"));
  EXPECT_EQ(self[self.root].items[0], self.root);
  std::string chain = "]" + put(0);
  for (int i = 1; i < 200; ++i) {
    chain += "]";
    chain += put(i) + get(i - 1) + get(i) + "a0";
  }
  const Unpickled c = run(p2(chain + get(0)));
  EXPECT_EQ(c[c.root].kind, Kind::List);
  // t[i+1] = (t[i], t[i]) 60 times: 2^60 leaves as a tree, 62 values here.
  std::string dag = k(0) + "\x85" + put(0) + "0";
  for (int i = 1; i <= 60; ++i) dag += get(i - 1) + get(i - 1) + "\x86" + put(i) + "0";
  dag += get(60);
  const Unpickled d = run(p2(dag));
  EXPECT_EQ(d[d.root].depth, 61u);
  EXPECT_LT(d.values.size(), 100u);
  // As a dict key it is hashed once per value, not once per leaf.
  const Unpickled key = run(p2("}" + dag + "Ns"));
  EXPECT_EQ(key[key.root].items.size(), 2u);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

}  // namespace
