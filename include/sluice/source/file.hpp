// stdin ("-", or no input at all) and files, each read once to its end, in the order
// given. With --checkpoint a regular file continues where the last run finished with it,
// and an unterminated last line is left for the next run.
#pragma once

#include <string>
#include <string_view>

#include "sluice/source/source.hpp"

namespace sluice {

class file_source final : public source {
 public:
  file_source(const config& cfg, reader_stats& stats, checkpoint_store* checkpoints);
  std::string_view type() const override;
  void run(emitter& h) override;

 private:
  bool read_input(const std::string& path, int fd, emitter& h);
};

}  // namespace sluice
