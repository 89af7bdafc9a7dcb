// A batch of arbitrary bytes: parsed as one document stream (falling back to one parse
// per line at the first line that is not exactly one object) and parsed line by line,
// the two must agree on output, dead letters, counts and event ends.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "sluice/batch.hpp"
#include "sluice/config.hpp"
#include "sluice/parse.hpp"
#include "sluice/transform.hpp"

namespace {

struct result {
  std::string out;
  std::string dead;
  sluice::batch_counts counts;
  std::vector<std::uint32_t> ends;
};

result parse(const std::uint8_t* data, std::size_t size, std::size_t stream_min_bytes) {
  static const sluice::config cfg = [] {
    sluice::config c;
    c.max_line_bytes = 256;  // small, so oversize lines inside a batch are reached too
    return c;
  }();
  static const sluice::transform tr(cfg);
  static const sluice::dead_letter_writer dl(sluice::dead_letter_format::json, true);
  sluice::batch_parser parser(cfg, tr, dl, stream_min_bytes);
  sluice::batch b(size + 1);
  std::memcpy(b.data(), data, size);
  std::memset(b.data() + size, '"', sluice::parse_padding);  // not zeros, as in a reused buffer
  b.size = size;
  b.source_name = "fuzz";
  parser.parse(b);
  return {b.out, b.dead, b.counts, b.event_ends};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const result a = parse(data, size, 0);
  const result b = parse(data, size, SIZE_MAX);
  const auto& x = a.counts;
  const auto& y = b.counts;
  if (a.out != b.out || a.dead != b.dead || a.ends != b.ends || x.lines != y.lines ||
      x.events != y.events || x.invalid != y.invalid || x.oversize != y.oversize ||
      x.filtered != y.filtered || x.empty != y.empty) {
    __builtin_trap();
  }
  return 0;
}
