// Inputs for the pipeline tests: numbered JSON lines that tell which one is which, read
// back as lines, and a configuration with many small batches (so bounds and order are
// exercised).
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "sluice/config.hpp"

namespace sluice::testing {

inline std::string numbered_line(int i) { return R"({"n":)" + std::to_string(i) + R"(,"msg":"some padding text"})"; }

inline std::string numbered_lines(int n, int from = 0) {
  std::string s;
  for (int i = from; i < from + n; ++i) s += numbered_line(i) + "\n";
  return s;
}

inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

inline std::vector<std::string> lines_of_file(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

inline config small_batches(const std::string& input) {
  config cfg;
  cfg.inputs = {input};
  cfg.batch_bytes = 2048;
  cfg.max_line_bytes = 4096;
  cfg.parse_threads = 2;
  return cfg;
}

}  // namespace sluice::testing
