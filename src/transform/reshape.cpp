#include "sluice/transform/reshape.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <limits>

#include <fmt/format.h>

#include "sluice/errors.hpp"
#include "sluice/json_string.hpp"
#include "sluice/transform/field_path.hpp"
#include "sluice/transform/logfmt.hpp"

namespace sluice {

namespace {

using node = field_selection::node;
constexpr std::size_t npos = std::numeric_limits<std::size_t>::max();

void write_double(double d, std::string& out) {
  // std::to_chars with no format is the shortest text that parses back to the same
  // double (libstdc++ since GCC 11). simdjson never yields inf or NaN, so it is valid
  // JSON; but an integral result ("1", "-0", "123456789012345680") would parse back as
  // an integer, a different value type, so it gets ".0".
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, d);
  const std::string_view text(buf, static_cast<std::size_t>(r.ptr - buf));
  out.append(text);
  if (text.find_first_of(".e") == std::string_view::npos) out.append(".0");
}

template <class Int>
void write_integer(Int i, std::string& out) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, i);
  out.append(buf, r.ptr);
}

std::size_t find_key(const node& n, std::string_view key) {
  const auto it = std::lower_bound(n.keys.begin(), n.keys.end(), key,
                                   [](const std::string& a, std::string_view b) { return std::string_view(a) < b; });
  if (it == n.keys.end() || *it != key) return npos;
  return static_cast<std::size_t>(it - n.keys.begin());
}

// Which of a trie level's keys an object has already shown, so --select keeps only the
// first of duplicate keys. Selecting more than 64 fields at one level is rare enough to
// pay for an allocation.
class seen_keys {
 public:
  explicit seen_keys(std::size_t n) {
    if (n > 64) many_.resize(n);
  }
  // True the first time `i` is inserted.
  bool insert(std::size_t i) {
    if (many_.empty()) {
      const std::uint64_t bit = std::uint64_t{1} << i;
      if (few_ & bit) return false;
      few_ |= bit;
      return true;
    }
    if (many_[i]) return false;
    many_[i] = true;
    return true;
  }

 private:
  std::uint64_t few_ = 0;
  std::vector<bool> many_;
};

// --select, JSON: writes `{...}` with what `n` keeps of `obj`; returns how many members.
std::size_t select_json(simdjson::dom::object obj, const node& n, std::string& out) {
  out.push_back('{');
  seen_keys seen(n.keys.size());
  std::size_t kept = 0;
  for (const auto [key, value] : obj) {
    const std::size_t i = find_key(n, key);
    // Mark a duplicate as seen even when nothing under it is kept: lookup() stops at
    // the first occurrence too.
    if (i == npos || !seen.insert(i)) continue;
    const node& sub = n.subs[i];
    const std::size_t mark = out.size();
    if (kept > 0) out.push_back(',');
    write_json_string(key, out);
    out.push_back(':');
    simdjson::dom::object inner;
    if (sub.whole) {
      write_json_value(value, out);
      ++kept;
    } else if (value.get_object().get(inner) == simdjson::SUCCESS && select_json(inner, sub, out) > 0) {
      ++kept;
    } else {
      out.resize(mark);  // nothing selected below: the parent is absent too
    }
  }
  out.push_back('}');
  return kept;
}

// --drop, JSON.
void drop_json(simdjson::dom::object obj, const node& n, std::string& out) {
  out.push_back('{');
  bool first = true;
  for (const auto [key, value] : obj) {
    const std::size_t i = find_key(n, key);
    if (i != npos && n.subs[i].whole) continue;
    if (!first) out.push_back(',');
    first = false;
    write_json_string(key, out);
    out.push_back(':');
    simdjson::dom::object inner;
    if (i != npos && value.get_object().get(inner) == simdjson::SUCCESS) {
      drop_json(inner, n.subs[i], out);
    } else {
      write_json_value(value, out);
    }
  }
  out.push_back('}');
}

// --select, logfmt; returns how many members were kept.
std::size_t select_logfmt(simdjson::dom::object obj, const node& n, const logfmt_key* parent, std::string& out,
                          std::size_t line_start) {
  seen_keys seen(n.keys.size());
  std::size_t kept = 0;
  for (const auto [key, value] : obj) {
    const std::size_t i = find_key(n, key);
    if (i == npos || !seen.insert(i)) continue;
    const node& sub = n.subs[i];
    const logfmt_key k{key, parent};
    simdjson::dom::object inner;
    if (sub.whole) {
      write_logfmt_member(k, value, out, line_start);
      ++kept;
    } else if (value.get_object().get(inner) == simdjson::SUCCESS) {
      kept += select_logfmt(inner, sub, &k, out, line_start);
    }
  }
  return kept;
}

// --drop, logfmt.
void drop_logfmt(simdjson::dom::object obj, const node& n, const logfmt_key* parent, std::string& out,
                 std::size_t line_start) {
  for (const auto [key, value] : obj) {
    const std::size_t i = find_key(n, key);
    if (i != npos && n.subs[i].whole) continue;
    const logfmt_key k{key, parent};
    simdjson::dom::object inner;
    if (i != npos && value.get_object().get(inner) == simdjson::SUCCESS) {
      drop_logfmt(inner, n.subs[i], &k, out, line_start);
    } else {
      write_logfmt_member(k, value, out, line_start);
    }
  }
}

void add_path(node& root, const field_path& path) {
  node* cur = &root;
  for (const path_step& step : path.steps) {
    if (cur->whole) return;  // an ancestor is listed whole: it covers this path
    auto it = std::lower_bound(cur->keys.begin(), cur->keys.end(), step.key);
    const auto i = static_cast<std::size_t>(it - cur->keys.begin());
    if (it == cur->keys.end() || *it != step.key) {
      cur->keys.insert(it, step.key);
      cur->subs.insert(cur->subs.begin() + static_cast<std::ptrdiff_t>(i), node{});
    }
    cur = &cur->subs[i];
  }
  cur->whole = true;
  cur->keys.clear();
  cur->subs.clear();
}

}  // namespace

void write_json_value(simdjson::dom::element v, std::string& out) {
  using simdjson::dom::element_type;
  switch (v.type()) {
    case element_type::OBJECT: {
      out.push_back('{');
      bool first = true;
      // Bound to a local: value_unsafe() returns a reference into the temporary result,
      // which a range-for would not keep alive.
      const simdjson::dom::object obj = v.get_object().value_unsafe();
      for (const auto [key, value] : obj) {
        if (!first) out.push_back(',');
        first = false;
        write_json_string(key, out);
        out.push_back(':');
        write_json_value(value, out);
      }
      out.push_back('}');
      break;
    }
    case element_type::ARRAY: {
      out.push_back('[');
      bool first = true;
      const simdjson::dom::array arr = v.get_array().value_unsafe();
      for (const auto item : arr) {
        if (!first) out.push_back(',');
        first = false;
        write_json_value(item, out);
      }
      out.push_back(']');
      break;
    }
    case element_type::STRING:
      write_json_string(v.get_string().value_unsafe(), out);
      break;
    case element_type::INT64:
      write_integer(v.get_int64().value_unsafe(), out);
      break;
    case element_type::UINT64:
      write_integer(v.get_uint64().value_unsafe(), out);
      break;
    case element_type::DOUBLE:
      write_double(v.get_double().value_unsafe(), out);
      break;
    case element_type::BOOL:
      out.append(v.get_bool().value_unsafe() ? "true" : "false");
      break;
    case element_type::NULL_VALUE:
      out.append("null");
      break;
  }
}

field_selection field_selection::select(std::string_view list) { return build(list, true); }

field_selection field_selection::drop(std::string_view list) { return build(list, false); }

field_selection field_selection::build(std::string_view list, bool select) {
  const std::string_view flag = select ? "--select" : "--drop";
  std::vector<field_path> paths;
  syntax_error err;
  if (!parse_field_list(list, paths, err))
    throw usage_error(fmt::format("{}: {} at column {}: {}", flag, err.message, err.column, list));
  field_selection fs;
  fs.select_ = select;
  for (const field_path& p : paths) {
    // Keeping "element 0 of tags" would need arrays rebuilt with holes or renumbered;
    // refusing it is clearer than either.
    for (const path_step& step : p.steps)
      if (step.is_index()) throw usage_error(fmt::format("{}: array indexes are not supported: {}", flag, p.text));
    add_path(fs.root_, p);
  }
  return fs;
}

void field_selection::write_json(simdjson::dom::object event, std::string& out) const {
  if (select_) {
    select_json(event, root_, out);
  } else {
    drop_json(event, root_, out);
  }
}

void field_selection::write_logfmt(simdjson::dom::object event, std::string& out) const {
  const std::size_t line_start = out.size();
  if (select_) {
    select_logfmt(event, root_, nullptr, out, line_start);
  } else {
    drop_logfmt(event, root_, nullptr, out, line_start);
  }
}

}  // namespace sluice
