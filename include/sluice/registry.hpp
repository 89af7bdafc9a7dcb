// Addresses name components (DESIGN.md §8): `-o -`, `-o PATH`, later `-o http://...` and
// `kafka://...`. A scheme (the part before "://") maps to the factory of the component
// that takes it; an address without one is a path, or "-" for stdin/stdout. main and the
// graph know no source or sink by name: adding one is its header, its source file, its
// flags and one line in src/registry.cpp.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/config.hpp"
#include "sluice/sink/sink.hpp"

namespace sluice {

class checkpoint_store;
class source;
struct reader_stats;

// "http" for "http://host/x"; empty for a path or "-".
std::string_view address_scheme(std::string_view address);

// The sink for `-o ADDRESS`. Throws usage_error for a scheme no sink takes, startup_error
// when the destination cannot be opened.
std::unique_ptr<sink> make_sink(const std::string& address, const config& cfg);
// The schemes sinks take, for messages ("" is a path).
std::vector<std::string_view> sink_schemes();

// The source for the configured inputs: stdin and files read once, or followed (-F).
std::unique_ptr<source> make_source(const config& cfg, reader_stats& stats, checkpoint_store* checkpoints);

}  // namespace sluice
