#pragma once
// A strict command-line parser for attnscope-cli and attnscope.
//
// Errors in the command line's shape (unknown option, missing value or
// required option) throw UsageError: exit code 2. A value that is present but
// wrong (not a number, out of range, not one of the choices) throws
// attn::Error: exit code 3, like any other bad input.
#include <initializer_list>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/enum_names.hpp"

namespace app {

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct OptionSpec {
  std::string name;  // without the leading "--"
  bool takes_value = true;
};

class Args {
 public:
  // argv[first..argc) are parsed against `spec`. "--help" is always known.
  // With max_positional > 0, up to that many arguments that are not options
  // (nor their values) are collected in positionals(), wherever they stand.
  Args(int argc, char** argv, int first, const std::vector<OptionSpec>& spec, int max_positional = 0);
  const std::vector<std::string>& positionals() const { return positionals_; }
  // Every option given, by name (flags with an empty value).
  const std::map<std::string, std::string>& values() const { return values_; }

  // A copy with some options set to other values: "KEY=VALUE[,KEY=VALUE...]",
  // keys being options of `spec` (long names, no dashes) other than those
  // in `refused`. A flag takes true/false (on/off, yes/no, 1/0). A part
  // without '=' continues the previous value (so "query=3,4" is one
  // pair). attn::Error naming `what` for an unknown key, a refused one, a
  // bad flag value or an empty list. The pairs are returned in `changed`.
  Args with(const std::string& pairs, const std::vector<OptionSpec>& spec,
            std::initializer_list<std::string_view> refused, const std::string& what,
            std::vector<std::pair<std::string, std::string>>* changed = nullptr) const;

  bool has(std::string_view name) const { return values_.contains(std::string(name)); }
  bool help() const { return has("help"); }
  std::optional<std::string> get(std::string_view name) const;
  std::string require(std::string_view name) const;  // UsageError if absent

  long long get_int(std::string_view name, long long fallback, long long lo, long long hi) const;
  double get_double(std::string_view name, double fallback) const;
  // The value's index in `choices`, or `fallback` if the option is absent.
  int get_choice(std::string_view name, std::initializer_list<std::string_view> choices, int fallback) const;
  // An enum by its name in the enum's table (core/enum_names.hpp), or
  // `fallback` if the option is absent.
  template <typename E>
  E get_enum(std::string_view name, E fallback) const {
    const auto v = get(name);
    return v ? attn::parse_enum<E>(*v, "--" + std::string(name)) : fallback;
  }

 private:
  std::map<std::string, std::string> values_;
  std::vector<std::string> positionals_;
};

// "KEY=VALUE[,KEY=VALUE...]" as (key, value) pairs, in order. A part without
// '=' continues the previous value ("query=3,4" is one pair). attn::Error
// naming `what` (and listing `keys` when not empty) for an empty list, an
// empty part or a first part without '='.
std::vector<std::pair<std::string, std::string>> parse_pairs(const std::string& pairs, const std::string& what,
                                                             const std::string& keys = "");

// Parses "A,B" into two integers (attn::Error naming `what` otherwise).
std::pair<long long, long long> parse_pair(const std::string& text, const std::string& what);

}  // namespace app
