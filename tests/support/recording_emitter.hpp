// An emitter for driving a source on its own thread in a unit test: it hands out batches
// from a small pool (a fixed number of slots, like the pipeline's read-ahead), records
// every emitted batch's lines with their origin and offsets, and calls source::finished()
// for each, at once and in order, or later from the test thread in an order the test
// chooses (hold_finishing). close_gate() stops handing batches out, which is what a full
// pipeline looks like to the source (backpressure): the test can change files while the
// source is known to be waiting (refusals() grew).
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "sluice/batch.hpp"
#include "sluice/source/source.hpp"
#include "sluice/stats.hpp"

namespace sluice::testing {

struct emitted_line {
  std::string text;      // without its '\n'
  bool terminated = true;  // false: handed on without a newline (end of its content)
  std::string name;      // origin: input_source::name
  std::string identity;  // origin: input_source::identity
  std::uint64_t offset = 0;  // of the line's first byte in its source
  std::uint64_t seq = 0;     // of its batch
};

class recording_emitter final : public emitter {
 public:
  recording_emitter(source& src, std::size_t batch_bytes, std::size_t slots = 4)
      : src_(src), pool_(batch_bytes, alive_), slots_(slots) {}
  ~recording_emitter() {
    std::lock_guard lock(mutex_);
    for (auto& [seq, b] : held_) pool_.release(b);
    held_.clear();
  }
  recording_emitter(const recording_emitter&) = delete;
  recording_emitter& operator=(const recording_emitter&) = delete;

  batch* acquire() override { return take(std::chrono::hours(24), false); }
  batch* acquire_within(int ms) override { return take(std::chrono::milliseconds(ms), false); }
  batch* acquire_at_stop() override { return take(std::chrono::hours(24), true); }

  void emit(batch* b) override {
    bool finish_now = false;
    {
      std::lock_guard lock(mutex_);
      b->seq = seq_++;
      record(*b);
      if (holding_) {
        held_.emplace(b->seq, b);
      } else {
        finish_now = true;
      }
    }
    cv_.notify_all();
    if (finish_now) finish_batch(b);
  }
  void give_back(batch* b) override {
    pool_.release(b);
    {
      std::lock_guard lock(mutex_);
      --out_;
      ++given_back_;
    }
    cv_.notify_all();
  }
  std::uint64_t emitted() const override {
    std::lock_guard lock(mutex_);
    return seq_;
  }

  // While on, emitted batches stay unfinished until finish() (any thread).
  void hold_finishing(bool on) {
    std::lock_guard lock(mutex_);
    holding_ = on;
  }
  std::vector<std::uint64_t> held() const {
    std::lock_guard lock(mutex_);
    std::vector<std::uint64_t> seqs;
    for (const auto& [seq, b] : held_) seqs.push_back(seq);
    return seqs;
  }
  // Marks a held batch delivered, calls source::finished() and gives its slot back.
  // False if no batch with that sequence number is held.
  bool finish(std::uint64_t seq) {
    batch* b = nullptr;
    {
      std::lock_guard lock(mutex_);
      const auto it = held_.find(seq);
      if (it == held_.end()) return false;
      b = it->second;
      held_.erase(it);
    }
    finish_batch(b);
    return true;
  }
  void finish_all_held() {
    for (const auto seq : held()) finish(seq);
  }

  // Closed: no batch is handed out (acquire_within waits its time and returns nullptr).
  void close_gate() {
    std::lock_guard lock(mutex_);
    gate_open_ = false;
  }
  void open_gate() {
    {
      std::lock_guard lock(mutex_);
      gate_open_ = true;
    }
    cv_.notify_all();
  }
  // Acquisitions that waited and got nothing: the source is waiting for a batch.
  std::uint64_t refusals() const {
    std::lock_guard lock(mutex_);
    return refusals_;
  }
  // So that a stopping source is never left waiting on the test: everything held is
  // finished and the gate opened.
  void release_all() {
    hold_finishing(false);
    finish_all_held();
    open_gate();
  }

  std::vector<emitted_line> lines() const {
    std::lock_guard lock(mutex_);
    return lines_;
  }
  std::uint64_t finished_calls() const {
    std::lock_guard lock(mutex_);
    return finished_calls_;
  }
  std::size_t out() const {
    std::lock_guard lock(mutex_);
    return out_;
  }

  // Polls (never a fixed sleep as synchronisation) until `pred(lines())` holds or the
  // deadline passes; returns whether it held.
  bool wait_for(const std::function<bool(const std::vector<emitted_line>&)>& pred,
                std::chrono::milliseconds deadline = std::chrono::seconds(20)) const {
    const auto until = std::chrono::steady_clock::now() + deadline;
    for (;;) {
      if (pred(lines())) return true;
      if (std::chrono::steady_clock::now() >= until) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

 private:
  batch* take(std::chrono::milliseconds patience, bool at_stop) {
    std::unique_lock lock(mutex_);
    const auto until = std::chrono::steady_clock::now() + patience;
    for (;;) {
      if (gate_open_ && out_ < slots_) break;
      if (!at_stop && src_.stopping()) return nullptr;
      // Woken by a finished batch; stop() has no hook here, so look again now and then.
      const auto step = std::min(until, std::chrono::steady_clock::now() + std::chrono::milliseconds(10));
      cv_.wait_until(lock, step);
      if (std::chrono::steady_clock::now() >= until && !(gate_open_ && out_ < slots_)) {
        ++refusals_;
        return nullptr;
      }
    }
    ++out_;
    lock.unlock();
    return pool_.acquire();
  }

  void record(const batch& b) {
    const std::string name = b.origin ? b.origin->name : std::string(b.source_name);
    const std::string identity = b.origin ? b.origin->identity : std::string();
    const std::string_view bytes = b.bytes();
    for (std::size_t at = 0; at < bytes.size();) {
      const auto nl = bytes.find('\n', at);
      emitted_line l;
      l.terminated = nl != std::string_view::npos;
      const auto end = l.terminated ? nl : bytes.size();
      const auto next = l.terminated ? nl + 1 : bytes.size();
      l.text.assign(bytes.substr(at, end - at));
      l.name = name;
      l.identity = identity;
      l.offset = b.offset + at;
      l.seq = b.seq;
      lines_.push_back(std::move(l));
      at = next;
    }
  }

  void finish_batch(batch* b) {
    b->delivered = true;
    b->events_written = 0;
    src_.finished(*b);
    pool_.release(b);
    {
      std::lock_guard lock(mutex_);
      --out_;
      ++finished_calls_;
    }
    cv_.notify_all();
  }

  source& src_;
  token_gauge alive_;
  batch_pool pool_;
  const std::size_t slots_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::size_t out_ = 0;  // batches handed out and not finished or given back
  std::uint64_t seq_ = 0;
  bool holding_ = false;
  bool gate_open_ = true;
  std::uint64_t refusals_ = 0;
  std::uint64_t given_back_ = 0;
  std::uint64_t finished_calls_ = 0;
  std::map<std::uint64_t, batch*> held_;
  std::vector<emitted_line> lines_;
};

}  // namespace sluice::testing
