#include "sluice/batch.hpp"

#include <cstring>

namespace sluice {

batch::batch(std::size_t capacity)
    // Not value-initialised: pages are touched only when a read fills them.
    : buffer_(new char[capacity + parse_padding]), capacity_(capacity) {}

void batch::grow(std::size_t new_capacity, std::size_t keep) {
  if (new_capacity <= capacity_) return;
  std::unique_ptr<char[]> bigger(new char[new_capacity + parse_padding]);
  std::memcpy(bigger.get(), buffer_.get(), keep);
  buffer_ = std::move(bigger);
  capacity_ = new_capacity;
}

void batch::reset_for_reuse() {
  seq = 0;
  source = 0;
  offset = 0;
  end_offset = 0;
  source_name = {};
  origin = nullptr;
  delivered = false;
  events_written = 0;
  given_up = false;
  event_ends.clear();
  size = 0;
  kind = content::lines;
  oversize_length = 0;
  handed_at_ns = 0;
  parsed_at_ns = 0;
  out.clear();
  dead.clear();
  counts = {};
}

batch_pool::batch_pool(std::size_t standard_capacity, token_gauge& alive)
    : standard_capacity_(standard_capacity), alive_(alive) {}

batch_pool::~batch_pool() {
  for (batch* b : free_) delete b;
}

batch* batch_pool::acquire() {
  alive_.add();
  {
    std::lock_guard lock(mutex_);
    if (!free_.empty()) {
      batch* b = free_.back();
      free_.pop_back();
      return b;
    }
  }
  return new batch(standard_capacity_);
}

void batch_pool::release(batch* b) {
  alive_.sub();
  if (b->capacity() != standard_capacity_) {
    // Grown for a long line: give the memory back rather than keep it for good.
    delete b;
    return;
  }
  // The output buffers keep their capacity unless one line made them unusually large.
  if (b->out.capacity() > 2 * standard_capacity_) std::string().swap(b->out);
  if (b->dead.capacity() > 2 * standard_capacity_) std::string().swap(b->dead);
  b->reset_for_reuse();
  std::lock_guard lock(mutex_);
  free_.push_back(b);
}

}  // namespace sluice
