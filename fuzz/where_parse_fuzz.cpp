// Arbitrary bytes as a --where expression. compile() must either return an expression
// that evaluates on any event, or throw usage_error with a one-line message in the
// documented form; anything else (a crash, another exception, a sanitizer report, a
// stack overflow on deep nesting) is a bug.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "sluice/errors.hpp"
#include "sluice/transform/where.hpp"

namespace {

// One event with a value of every type, parsed once: every compiled expression runs on
// it, so the evaluator sees whatever shapes the parser lets through.
simdjson::dom::element sample_event() {
  static simdjson::dom::parser parser;
  static const simdjson::padded_string json(std::string_view(
      R"({"a":1,"b":-2.5,"c":"str","d":true,"e":null,"f":[1,"x",{"g":[]}],"h":{"i":{"j":"é"}},)"
      R"("u":18446744073709551615,"a":"dup"})"));
  static const simdjson::dom::element event = parser.parse(json).value();
  return event;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const auto expr = sluice::where_expr::compile(text);
    expr.matches(sample_event());
  } catch (const sluice::usage_error& e) {
    const std::string_view message = e.what();
    if (message.substr(0, 9) != "--where: " || message.find(" at column ") == std::string_view::npos ||
        message.find('\n') != std::string_view::npos)
      __builtin_trap();
  }
  return 0;
}
