#pragma once
// One name table per enum: the name command lines, sessions and JSON use,
// older spellings that are still accepted, a label for menus and combos, and
// a one-sentence help. Every front end reads the same table, so a value has
// one spelling everywhere and a menu cannot forget one.
//
// Each enum's header declares its table next to the enum:
//   template <> std::span<const EnumName<Score>> enum_names<Score>();
// and its .cpp defines it, entries in the enum's own order (entry i has
// value i; tests/core/test_names.cpp checks every table).
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "error.hpp"

namespace attn {

template <typename E>
struct EnumName {
  E value;
  std::string_view name;          // command lines, sessions, JSON
  std::string_view label;         // menus and combos
  std::string_view help;          // one sentence, for tooltips and --help
  std::string_view aliases = {};  // other accepted spellings, space-separated
};

template <typename E>
std::span<const EnumName<E>> enum_names();

template <typename E>
std::string_view name_of(E value) {
  return enum_names<E>()[static_cast<size_t>(value)].name;
}

template <typename E>
const EnumName<E>& entry_of(E value) {
  return enum_names<E>()[static_cast<size_t>(value)];
}

// The value named `text` (its name or one of its aliases), if any.
template <typename E>
std::optional<E> from_name(std::string_view text) {
  for (const auto& e : enum_names<E>()) {
    if (e.name == text) return e.value;
    for (std::string_view rest = e.aliases; !rest.empty();) {
      const size_t space = rest.find(' ');
      if (rest.substr(0, space) == text) return e.value;
      rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
    }
  }
  return std::nullopt;
}

// The names joined by `separator`, e.g. "none|causal|local".
template <typename E>
std::string enum_choices(std::string_view separator = "|") {
  std::string out;
  for (const auto& e : enum_names<E>()) {
    if (!out.empty()) out += separator;
    out += e.name;
  }
  return out;
}

// from_name, or attn::Error "`what`: 'x' is not one of a, b, c".
template <typename E>
E parse_enum(std::string_view text, std::string_view what) {
  if (const auto v = from_name<E>(text)) return *v;
  std::string shown;
  for (char c : text.substr(0, 40)) shown += (c >= 32 && c < 127) ? c : '?';
  throw Error(std::string(what) + ": '" + shown + "' is not one of " + enum_choices<E>(", "));
}

}  // namespace attn
