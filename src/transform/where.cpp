#include "sluice/transform/where.hpp"

#include <cmath>
#include <compare>
#include <cstdint>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <re2/re2.h>

#include "sluice/errors.hpp"
#include "sluice/transform/field_path.hpp"

namespace sluice {

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

enum class value_kind : std::uint8_t { null, boolean, int64, uint64, float64, string, array, object };

// A value as the evaluator sees it, literal or looked up, without copying anything:
// strings are views into the event (or into the compiled program), arrays and objects
// stay DOM elements.
struct value {
  value_kind kind = value_kind::null;
  bool boolean = false;
  std::int64_t i64 = 0;
  std::uint64_t u64 = 0;
  double f64 = 0;
  std::string_view str;
  element dom;  // arrays and objects
};

enum class op : std::uint8_t { eq, ne, lt, le, gt, ge, match, not_match, exists, not_, and_, or_ };

struct operand {
  bool is_path = false;
  std::uint32_t index = 0;  // into program::paths or program::literals
};

struct node {
  op kind = op::eq;
  operand lhs;  // comparisons, matches; exists: the path
  operand rhs;  // comparisons
  // and/or: children[first, first + count); not: first is the child; matches: the regex.
  std::uint32_t first = 0;
  std::uint32_t count = 0;
};

// Deeper nesting is refused at compile time so that neither the parser nor the
// evaluator, both recursive, can run out of stack on a hostile expression.
constexpr int max_nesting = 256;

value from_element(element e) noexcept {
  value v;
  switch (e.type()) {
    case element_type::NULL_VALUE: break;
    case element_type::BOOL:
      v.kind = value_kind::boolean;
      v.boolean = e.get_bool().value_unsafe();
      break;
    case element_type::INT64:
      v.kind = value_kind::int64;
      v.i64 = e.get_int64().value_unsafe();
      break;
    case element_type::UINT64:
      v.kind = value_kind::uint64;
      v.u64 = e.get_uint64().value_unsafe();
      break;
    case element_type::DOUBLE:
      v.kind = value_kind::float64;
      v.f64 = e.get_double().value_unsafe();
      break;
    case element_type::STRING:
      v.kind = value_kind::string;
      v.str = e.get_string().value_unsafe();
      break;
    case element_type::ARRAY:
      v.kind = value_kind::array;
      v.dom = e;
      break;
    case element_type::OBJECT:
      v.kind = value_kind::object;
      v.dom = e;
      break;
  }
  return v;
}

bool is_number(value_kind k) {
  return k == value_kind::int64 || k == value_kind::uint64 || k == value_kind::float64;
}

// Exact comparisons across number representations: converting an int64 or a uint64 to
// double rounds above 2^53 (so 2^53 + 1 would equal 2^53.0), and converting a double
// to an integer is undefined out of range. Instead, compare the double's integral part
// as an integer, then its fraction. JSON has no NaN, but a NaN would be unordered.
std::partial_ordering compare_i64_f64(std::int64_t i, double d) noexcept {
  constexpr double two_63 = 9223372036854775808.0;
  if (std::isnan(d)) return std::partial_ordering::unordered;
  if (d >= two_63) return std::partial_ordering::less;
  if (d < -two_63) return std::partial_ordering::greater;
  const double whole = std::trunc(d);
  const auto w = static_cast<std::int64_t>(whole);  // exact: |whole| <= 2^63, -2^63 included
  if (i != w) return i <=> w;
  return 0.0 <=> (d - whole);  // the fraction is exact; its sign decides
}

std::partial_ordering compare_u64_f64(std::uint64_t u, double d) noexcept {
  constexpr double two_64 = 18446744073709551616.0;
  if (std::isnan(d)) return std::partial_ordering::unordered;
  if (d < 0) return std::partial_ordering::greater;  // -0.0 is not < 0: 0 == -0.0
  if (d >= two_64) return std::partial_ordering::less;
  const double whole = std::trunc(d);
  const auto w = static_cast<std::uint64_t>(whole);
  if (u != w) return u <=> w;
  return 0.0 <=> (d - whole);
}

std::partial_ordering compare_i64_u64(std::int64_t i, std::uint64_t u) noexcept {
  if (i < 0) return std::partial_ordering::less;
  return static_cast<std::uint64_t>(i) <=> u;
}

std::partial_ordering reversed(std::partial_ordering o) noexcept { return 0 <=> o; }

std::partial_ordering compare_numbers(const value& a, const value& b) noexcept {
  using k = value_kind;
  switch (a.kind) {
    case k::int64:
      if (b.kind == k::int64) return a.i64 <=> b.i64;
      if (b.kind == k::uint64) return compare_i64_u64(a.i64, b.u64);
      return compare_i64_f64(a.i64, b.f64);
    case k::uint64:
      if (b.kind == k::int64) return reversed(compare_i64_u64(b.i64, a.u64));
      if (b.kind == k::uint64) return a.u64 <=> b.u64;
      return compare_u64_f64(a.u64, b.f64);
    default:
      if (b.kind == k::int64) return reversed(compare_i64_f64(b.i64, a.f64));
      if (b.kind == k::uint64) return reversed(compare_u64_f64(b.u64, a.f64));
      return a.f64 <=> b.f64;
  }
}

bool equal(const value& a, const value& b) noexcept;

// Structural equality of two arrays or two objects, in order. The depth is bounded by
// the DOM parser's own depth limit.
bool equal_dom(element a, element b) noexcept {
  if (a.type() == element_type::ARRAY) {
    auto xs = a.get_array().value_unsafe();
    auto ys = b.get_array().value_unsafe();
    auto x = xs.begin(), y = ys.begin();
    for (; x != xs.end() && y != ys.end(); ++x, ++y)
      if (!equal(from_element(*x), from_element(*y))) return false;
    return x == xs.end() && y == ys.end();
  }
  auto xs = a.get_object().value_unsafe();
  auto ys = b.get_object().value_unsafe();
  auto x = xs.begin(), y = ys.begin();
  for (; x != xs.end() && y != ys.end(); ++x, ++y)
    if (x.key() != y.key() || !equal(from_element(x.value()), from_element(y.value()))) return false;
  return x == xs.end() && y == ys.end();
}

bool equal(const value& a, const value& b) noexcept {
  if (is_number(a.kind) && is_number(b.kind)) return compare_numbers(a, b) == 0;
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case value_kind::null: return true;
    case value_kind::boolean: return a.boolean == b.boolean;
    case value_kind::string: return a.str == b.str;
    case value_kind::array:
    case value_kind::object: return equal_dom(a.dom, b.dom);
    default: return false;  // numbers handled above
  }
}

// Only numbers with numbers and strings with strings are ordered; anything else is
// unordered, which makes every ordered comparison false.
std::partial_ordering order(const value& a, const value& b) noexcept {
  if (is_number(a.kind) && is_number(b.kind)) return compare_numbers(a, b);
  if (a.kind == value_kind::string && b.kind == value_kind::string) return a.str <=> b.str;  // bytewise
  return std::partial_ordering::unordered;
}

// The same set field_path.hpp accepts in a bare name.
bool is_name_char(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == '@' || c == '$' || c >= 0x80;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

struct where_expr::program {
  std::vector<node> nodes;
  std::vector<std::uint32_t> children;
  std::vector<field_path> paths;
  std::deque<std::string> literal_text;  // backs the string literals' views: a deque never moves them
  std::vector<value> literals;
  std::vector<std::unique_ptr<const re2::RE2>> regexes;
  std::uint32_t root = 0;

  value resolve(operand o, element event) const noexcept {
    if (!o.is_path) return literals[o.index];
    element e;
    if (lookup(event, paths[o.index]).get(e) != simdjson::SUCCESS) return value{};  // missing is null
    return from_element(e);
  }

  bool eval(std::uint32_t n, element event) const noexcept {
    const node& nd = nodes[n];
    switch (nd.kind) {
      case op::and_:
        for (std::uint32_t c = nd.first; c < nd.first + nd.count; ++c)
          if (!eval(children[c], event)) return false;
        return true;
      case op::or_:
        for (std::uint32_t c = nd.first; c < nd.first + nd.count; ++c)
          if (eval(children[c], event)) return true;
        return false;
      case op::not_: return !eval(nd.first, event);
      case op::exists: return lookup(event, paths[nd.lhs.index]).error() == simdjson::SUCCESS;
      case op::match:
      case op::not_match: {
        const value v = resolve(nd.lhs, event);
        const bool m = v.kind == value_kind::string && re2::RE2::PartialMatch(v.str, *regexes[nd.first]);
        return nd.kind == op::match ? m : !m;
      }
      case op::eq: return equal(resolve(nd.lhs, event), resolve(nd.rhs, event));
      case op::ne: return !equal(resolve(nd.lhs, event), resolve(nd.rhs, event));
      case op::lt: return order(resolve(nd.lhs, event), resolve(nd.rhs, event)) < 0;
      case op::le: return order(resolve(nd.lhs, event), resolve(nd.rhs, event)) <= 0;
      case op::gt: return order(resolve(nd.lhs, event), resolve(nd.rhs, event)) > 0;
      case op::ge: return order(resolve(nd.lhs, event), resolve(nd.rhs, event)) >= 0;
    }
    return false;
  }
};

namespace {

// Recursive descent over the grammar in where.hpp. Errors are thrown as syntax_error
// with a 1-based byte column and turned into a usage_error by compile().
class parser {
 public:
  parser(std::string_view text, where_expr::program& out) : text_(text), out_(out) {}

  void parse() {
    out_.root = parse_or(0);
    skip_space();
    if (pos_ < text_.size()) {
      if (text_[pos_] == ')') fail(pos_, "unmatched ')'");
      fail(pos_, "expected 'and', 'or' or the end of the expression");
    }
  }

 private:
  [[noreturn]] void fail(std::size_t pos, std::string message) {
    throw syntax_error{pos + 1, std::move(message)};
  }

  static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

  void skip_space() {
    while (pos_ < text_.size() && is_space(text_[pos_])) ++pos_;
  }

  // The bare name starting at `at` (empty when there is none).
  std::string_view word_at(std::size_t at) const {
    std::size_t end = at;
    while (end < text_.size() && is_name_char(static_cast<unsigned char>(text_[end]))) ++end;
    return text_.substr(at, end - at);
  }

  // Consumes `kw` when it is the next word.
  bool accept_keyword(std::string_view kw) {
    skip_space();
    if (word_at(pos_) != kw) return false;
    pos_ += kw.size();
    return true;
  }

  bool next_is_exists_call() {
    skip_space();
    if (word_at(pos_) != "exists") return false;
    std::size_t after = pos_ + 6;
    while (after < text_.size() && is_space(text_[after])) ++after;
    return after < text_.size() && text_[after] == '(';
  }

  std::uint32_t add(node n) {
    out_.nodes.push_back(n);
    return static_cast<std::uint32_t>(out_.nodes.size() - 1);
  }

  // Flattens a chain of one operator into one node, so a long `a or b or c ...` costs
  // no recursion when evaluated.
  std::uint32_t add_chain(op kind, const std::vector<std::uint32_t>& items) {
    if (items.size() == 1) return items[0];
    node n;
    n.kind = kind;
    n.first = static_cast<std::uint32_t>(out_.children.size());
    n.count = static_cast<std::uint32_t>(items.size());
    out_.children.insert(out_.children.end(), items.begin(), items.end());
    return add(n);
  }

  std::uint32_t parse_or(int depth) {
    std::vector<std::uint32_t> items{parse_and(depth)};
    while (accept_keyword("or")) items.push_back(parse_and(depth));
    return add_chain(op::or_, items);
  }

  std::uint32_t parse_and(int depth) {
    std::vector<std::uint32_t> items{parse_not(depth)};
    while (accept_keyword("and")) items.push_back(parse_not(depth));
    return add_chain(op::and_, items);
  }

  std::uint32_t parse_not(int depth) {
    // `not not x` is x: count them instead of recursing, so no run of nots is too long.
    bool negate = false;
    while (accept_keyword("not")) negate = !negate;
    const std::uint32_t inner = parse_primary(depth);
    if (!negate) return inner;
    node n;
    n.kind = op::not_;
    n.first = inner;
    return add(n);
  }

  std::uint32_t parse_primary(int depth) {
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == '(') {
      if (depth >= max_nesting) fail(pos_, fmt::format("more than {} nested parentheses", max_nesting));
      ++pos_;
      const std::uint32_t inner = parse_or(depth + 1);
      skip_space();
      if (pos_ >= text_.size() || text_[pos_] != ')') fail(pos_, "expected 'and', 'or' or ')'");
      ++pos_;
      return inner;
    }
    if (next_is_exists_call()) {
      pos_ += 6;
      skip_space();
      ++pos_;  // '('
      skip_space();
      node n;
      n.kind = op::exists;
      n.lhs = parse_path();
      skip_space();
      if (pos_ >= text_.size() || text_[pos_] != ')') fail(pos_, "expected ')'");
      ++pos_;
      return add(n);
    }
    return parse_comparison();
  }

  std::uint32_t parse_comparison() {
    node n;
    n.lhs = parse_value();
    skip_space();
    const std::size_t op_pos = pos_;
    const std::string_view rest = text_.substr(pos_);
    auto starts = [&](std::string_view s) { return rest.substr(0, s.size()) == s; };
    std::string_view op_text;
    if (starts("==")) n.kind = op::eq, op_text = "==";
    else if (starts("!=")) n.kind = op::ne, op_text = "!=";
    else if (starts("<=")) n.kind = op::le, op_text = "<=";
    else if (starts(">=")) n.kind = op::ge, op_text = ">=";
    else if (starts("=~")) n.kind = op::match, op_text = "=~";
    else if (starts("!~")) n.kind = op::not_match, op_text = "!~";
    else if (starts("<")) n.kind = op::lt, op_text = "<";
    else if (starts(">")) n.kind = op::gt, op_text = ">";
    else if (starts("=")) fail(op_pos, "'=' is not an operator; compare with '=='");
    else fail(op_pos, "expected a comparison operator (== != < <= > >= =~ !~)");
    pos_ += op_text.size();
    if (n.kind == op::match || n.kind == op::not_match) {
      skip_space();
      const std::size_t re_pos = pos_;
      if (pos_ >= text_.size() || text_[pos_] != '"')
        fail(pos_, fmt::format("the right side of {} must be a string literal", op_text));
      const std::string pattern = parse_string();
      re2::RE2::Options options;
      options.set_log_errors(false);  // the error is reported once, as a usage error
      auto re = std::make_unique<const re2::RE2>(pattern, options);
      if (!re->ok()) fail(re_pos, "invalid regular expression: " + re->error());
      n.first = static_cast<std::uint32_t>(out_.regexes.size());
      out_.regexes.push_back(std::move(re));
    } else {
      n.rhs = parse_value();
    }
    return add(n);
  }

  operand parse_value() {
    skip_space();
    const std::size_t start = pos_;
    if (pos_ >= text_.size()) fail(pos_, "expected a value");
    const char c = text_[pos_];
    if (c == '"') return add_literal(string_literal());
    if (is_digit(c) || (c == '-' && pos_ + 1 < text_.size() && is_digit(text_[pos_ + 1])))
      return add_literal(number_literal());
    if (c == '[') return parse_path();  // field_path explains that a path starts with a name
    const std::string_view word = word_at(pos_);
    if (word.empty() || word == "and" || word == "or" || word == "not") fail(start, "expected a value");
    if (word == "true" || word == "false") {
      pos_ += word.size();
      value v;
      v.kind = value_kind::boolean;
      v.boolean = word == "true";
      return add_literal(v);
    }
    if (word == "null") {
      pos_ += word.size();
      return add_literal(value{});
    }
    if (next_is_exists_call()) fail(start, "exists(...) is a condition, not a value");
    return parse_path();
  }

  operand parse_path() {
    field_path path;
    syntax_error err;
    if (!parse_field_path(text_, pos_, path, err)) throw err;
    out_.paths.push_back(std::move(path));
    return {true, static_cast<std::uint32_t>(out_.paths.size() - 1)};
  }

  operand add_literal(value v) {
    out_.literals.push_back(v);
    return {false, static_cast<std::uint32_t>(out_.literals.size() - 1)};
  }

  // A JSON string at pos_, decoded as simdjson decodes the events' strings.
  std::string parse_string() {
    const std::size_t start = pos_;
    std::size_t i = pos_ + 1;
    while (i < text_.size() && text_[i] != '"') i += text_[i] == '\\' ? 2 : 1;
    if (i >= text_.size()) fail(start, "unterminated string");
    std::string_view decoded;
    if (json_.parse(std::string(text_.substr(start, i + 1 - start))).get(decoded) != simdjson::SUCCESS)
      fail(start, "invalid string literal");
    pos_ = i + 1;
    return std::string(decoded);
  }

  value string_literal() {
    value v;
    v.kind = value_kind::string;
    v.str = out_.literal_text.emplace_back(parse_string());
    return v;
  }

  // The extent follows JSON's number grammar; simdjson converts it, so a literal means
  // exactly what the same text means in an event (and what an event may not hold, such
  // as 1e400 or an integer beyond 64 bits, is refused here too).
  value number_literal() {
    const std::size_t start = pos_;
    std::size_t i = pos_;
    auto digits = [&] {
      const std::size_t from = i;
      while (i < text_.size() && is_digit(text_[i])) ++i;
      return i > from;
    };
    if (text_[i] == '-') ++i;
    if (text_[i] == '0') ++i;
    else digits();
    if (i + 1 < text_.size() && text_[i] == '.' && is_digit(text_[i + 1])) {
      ++i;
      digits();
    }
    if (i < text_.size() && (text_[i] == 'e' || text_[i] == 'E')) {
      std::size_t save = i++;
      if (i < text_.size() && (text_[i] == '+' || text_[i] == '-')) ++i;
      if (!digits()) i = save;
    }
    if (i < text_.size() && (is_name_char(static_cast<unsigned char>(text_[i])) || text_[i] == '.'))
      fail(start, "invalid number");
    element e;
    if (json_.parse(std::string(text_.substr(start, i - start))).get(e) != simdjson::SUCCESS)
      fail(start, "number out of range");
    pos_ = i;
    return from_element(e);
  }

  std::string_view text_;
  where_expr::program& out_;
  std::size_t pos_ = 0;
  simdjson::dom::parser json_;  // decodes literals; compile time only
};

// Columns count characters, not bytes, so that they match what a terminal shows.
std::size_t character_column(std::string_view text, std::size_t byte_column) {
  std::size_t column = 1;
  for (std::size_t i = 0; i + 1 < byte_column && i < text.size(); ++i)
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++column;
  return column;
}

// The message is one line: control characters are shown as spaces, one for one, so the
// column still points at the right place. Both the expression and RE2's message (which
// quotes the decoded pattern, "\n" included) can hold them.
std::string printable(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  return out;
}

}  // namespace

where_expr where_expr::compile(std::string_view text) {
  auto prog = std::make_shared<program>();
  try {
    parser(text, *prog).parse();
  } catch (const syntax_error& err) {
    throw usage_error(fmt::format("--where: {} at column {}: {}", printable(err.message),
                                  character_column(text, err.column), printable(text)));
  }
  where_expr expr;
  expr.program_ = std::move(prog);
  expr.text_ = std::string(text);
  return expr;
}

bool where_expr::matches(simdjson::dom::element event) const noexcept {
  return !program_ || program_->eval(program_->root, event);
}

}  // namespace sluice
