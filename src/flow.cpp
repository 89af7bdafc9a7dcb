#include "sluice/flow.hpp"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <oneapi/tbb/enumerable_thread_specific.h>
#include <oneapi/tbb/flow_graph.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>
#include <spdlog/spdlog.h>

#include "sluice/parse.hpp"
#include "sluice/source/source.hpp"
#include "sluice/source/checkpoint.hpp"
#include "sluice/transform.hpp"

namespace sluice {

namespace tf = oneapi::tbb::flow;

namespace {

// Read-ahead slots: the reader takes one before filling a batch; the parallel stage gives
// it back when the batch enters it. Waiting here is what stops the reading.
class slot_count {
 public:
  explicit slot_count(std::size_t n) : free_(n) {}
  ~slot_count() {
    while (releasing_.load(std::memory_order_acquire) != 0) std::this_thread::yield();
  }
  slot_count(const slot_count&) = delete;
  slot_count& operator=(const slot_count&) = delete;
  // False when `stopping` became true while waiting, or `patience` ran out.
  template <class Stop>
  bool acquire(Stop stopping, std::chrono::milliseconds patience = std::chrono::milliseconds::max()) {
    std::unique_lock lock(mutex_);
    const auto ready = [&] { return free_ > 0 || stopping(); };
    if (patience == std::chrono::milliseconds::max()) {
      cv_.wait(lock, ready);
    } else if (!cv_.wait_for(lock, patience, ready)) {
      return false;
    }
    if (stopping()) return false;
    --free_;
    return true;
  }
  // Notified after unlocking, so the woken reader does not block on the mutex at once.
  // The pipeline may finish before notify_one() returns: `releasing_` makes the
  // destructor wait.
  void release() {
    releasing_.fetch_add(1, std::memory_order_relaxed);
    {
      std::lock_guard lock(mutex_);
      ++free_;
    }
    cv_.notify_one();
    releasing_.fetch_sub(1, std::memory_order_release);
  }
  void wake_all() {
    std::lock_guard lock(mutex_);
    cv_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::size_t free_;
  std::atomic<int> releasing_{0};  // release() calls not yet returned
};

// Published (handoff_release) once the graph is built; every node body acquires it first,
// so TSan sees that bodies run after the nodes they live in were constructed.
char graph_built;

}  // namespace

struct pipeline::impl {
  using sink_node = tf::async_node<batch*, long>;

  impl(const config& c, pipeline_stats& s, pipeline_parts parts, pipeline_hooks h)
      : cfg(c),
        st(s),
        hooks(std::move(h)),
        pool(c.batch_bytes, s.batches_alive),
        read_ahead(c.read_ahead),
        checkpoints(parts.checkpoints),
        rd(std::move(parts.in)),
        tr(c),
        dl(c.dead_letter_fmt, static_cast<bool>(parts.dead)),
        parallelism(oneapi::tbb::global_control::max_allowed_parallelism, c.parse_threads + 1),
        // No slot reserved for an external thread: the parse_threads workers do all the
        // parsing; the reader and sink threads only hand work over.
        // parse_threads workers, plus a slot for the thread that builds and finally waits
        // (it does no parsing: it sleeps in run() while the workers parse).
        arena(static_cast<int>(c.parse_threads) + 1, 1) {
    sink = std::make_unique<sink_stage>(cfg, std::move(parts.out), std::move(parts.dead), st.sink,
                                        [this](batch* b) { written(b); }, hooks.retry);
    sink->on_stop = [this](sink_status) {
      rd->stop();
      read_ahead.wake_all();
    };
    if (checkpoints) sink->on_durable = [this] { return checkpoints->save(); };
    arena.execute([this] { build(); });
    handoff_release(&graph_built);
  }

  ~impl() {
    arena.execute([this] { g->wait_for_all(); });
  }

  // A node body that marks, before it reads anything of its own, that it runs after the
  // graph was built (see graph_built).
  template <class R>
  struct body {
    impl* self;
    R (impl::*fn)(batch*);
    R operator()(batch* b) const {
      handoff_acquire(&graph_built);
      return (self->*fn)(b);
    }
  };

  void build() {
    g = std::make_unique<tf::graph>();
    read_queue = std::make_unique<tf::queue_node<batch*>>(*g);
    parse_limit = std::make_unique<tf::limiter_node<batch*, long>>(*g, cfg.parse_tokens);
    parse = std::make_unique<tf::function_node<batch*, batch*>>(
        *g, tf::unlimited, body<batch*>{this, &impl::parse_batch});
    to_sink = std::make_unique<sink_node>(*g, tf::serial, [this](batch* b, sink_node::gateway_type& gw) {
      handoff_acquire(&graph_built);
      admit_to_sink(b, gw);
    });
    gateway = &to_sink->gateway();

    tf::make_edge(*read_queue, *parse_limit);
    tf::make_edge(*parse_limit, *parse);
    if (cfg.on_full == on_full_policy::block) {
      sink_limit = std::make_unique<tf::limiter_node<batch*, long>>(*g, cfg.sink_tokens);
      // A limiter drops what it refuses from a function_node: it needs a buffering
      // predecessor, the sequencer (ordered) or a buffer_node (unordered).
      if (!cfg.unordered) {
        order = std::make_unique<tf::sequencer_node<batch*>>(*g, [](batch* b) { return b->seq; });
        tf::make_edge(*parse, *order);
        tf::make_edge(*order, *sink_limit);
      } else {
        pending = std::make_unique<tf::buffer_node<batch*>>(*g);
        tf::make_edge(*parse, *pending);
        tf::make_edge(*pending, *sink_limit);
      }
      tf::make_edge(*sink_limit, *to_sink);
      tf::make_edge(*to_sink, sink_limit->decrementer());
    } else {
      drop_gate = std::make_unique<gate_node>(*g, tf::serial, [this](batch* b, gate_node::output_ports_type& ports) {
        handoff_acquire(&graph_built);
        gate(b, ports);
      });
      if (!cfg.unordered) {
        order = std::make_unique<tf::sequencer_node<batch*>>(*g, [](batch* b) { return b->seq; });
        tf::make_edge(*parse, *order);
        tf::make_edge(*order, *drop_gate);
      } else {
        tf::make_edge(*parse, *drop_gate);
      }
      tf::make_edge(tf::output_port<0>(*drop_gate), *to_sink);
    }
  }

  // --- reader side (reader thread) ---
  batch* acquire_for_reader(std::chrono::milliseconds patience = std::chrono::milliseconds::max(),
                            bool at_stop = false) {
    st.reader.blocked.begin(now_ns());
    const bool got = read_ahead.acquire([this, at_stop] { return !at_stop && rd->stopping(); }, patience);
    st.reader.blocked.end(now_ns());
    if (!got) return nullptr;
    st.reader.read_ahead.add();
    return pool.acquire();
  }
  void release_read_ahead() {
    st.reader.read_ahead.sub();
    read_ahead.release();
  }

  // What the source fills and hands on batches through (its thread only): numbering,
  // counting and the hand-off to the graph are done here once, for every source.
  struct source_emitter final : emitter {
    impl& m;
    std::uint64_t seq = 0;
    explicit source_emitter(impl& self) : m(self) {}
    batch* acquire() override { return m.acquire_for_reader(); }
    batch* acquire_within(int ms) override { return m.acquire_for_reader(std::chrono::milliseconds(ms)); }
    batch* acquire_at_stop() override { return m.acquire_for_reader(std::chrono::milliseconds::max(), true); }
    void emit(batch* b) override {
      b->seq = seq++;
      b->handed_at_ns = now_ns();
      bump(m.st.reader.batches_out);
      bump(m.st.reader.component.sent_bytes, b->size);
      handoff_release(b);
      m.read_queue->try_put(b);
    }
    void give_back(batch* b) override {
      m.pool.release(b);
      m.release_read_ahead();
    }
    std::uint64_t emitted() const override { return seq; }
  };

  // --- parallel stage (TBB workers) ---
  batch* parse_batch(batch* b) {
    handoff_acquire(b);
    st.parse.tokens.add();
    release_read_ahead();
    bump(st.parse.blocked_ns, static_cast<std::uint64_t>(now_ns() - b->handed_at_ns));
    if (hooks.in_parse) hooks.in_parse(*b);
    auto& parser = parsers.local();
    if (!parser) parser = std::make_unique<batch_parser>(cfg, tr, dl);
    // Node bodies must not throw (it would cancel the graph); the parse step works on
    // values, so only an allocation failure could, and then the batch counts as invalid.
    try {
      parser->parse(*b);
    } catch (const std::exception& e) {
      spdlog::error("parse: {}", e.what());
      b->out.clear();
      b->counts.invalid += b->counts.lines - b->counts.invalid;
      b->counts.events = 0;
    }
    const auto& c = b->counts;
    bump(st.parse.batches_in);
    bump(st.parse.bytes_in, b->size);
    bump(st.parse.lines_in, c.lines);
    bump(st.parse.events_out, c.events);
    bump(st.parse.bytes_out, b->out.size());
    bump(st.parse.invalid, c.invalid);
    bump(st.parse.oversize, c.oversize);
    bump(st.parse.empty, c.empty);
    bump(st.parse.filtered, c.filtered);
    auto& pc = st.parse.component;
    bump(pc.received_events, c.lines);
    bump(pc.received_bytes, b->size);
    bump(pc.sent_events, c.events);
    bump(pc.sent_bytes, b->out.size());
    bump(pc.discarded("invalid"), c.invalid);
    bump(pc.discarded("oversize"), c.oversize);
    bump(pc.discarded("filtered"), c.filtered);
    // The source does not cut lines apart; they are counted here, as the lines it sent.
    bump(st.reader.component.received_events, c.lines);
    bump(st.reader.component.sent_events, c.lines);
    b->parsed_at_ns = now_ns();
    handoff_release(b);
    return b;
  }

  // --- sink admission (serial) ---
  void return_parse_token() {
    st.parse.tokens.sub();
    parse_limit->decrementer().try_put(1);
  }

  void admit_to_sink(batch* b, sink_node::gateway_type& gw) {
    handoff_acquire(b);
    if (cfg.on_full == on_full_policy::block) {
      bump(st.sink.blocked_ns, static_cast<std::uint64_t>(now_ns() - b->parsed_at_ns));
      st.sink.tokens.add();
      return_parse_token();
    }
    // The sink thread puts the sink token back through the gateway; until then the
    // graph must not consider itself idle.
    gw.reserve_wait();
    sink->push(b);
  }

  using gate_node = tf::multifunction_node<batch*, std::tuple<batch*>>;
  // --on-full drop: never wait for the sink. A full sink drops the batch whole.
  void gate(batch* b, gate_node::output_ports_type& ports) {
    handoff_acquire(b);
    return_parse_token();
    if (sink_in_use < static_cast<std::int64_t>(cfg.sink_tokens)) {
      ++sink_in_use;
      st.sink.tokens.add();
      handoff_release(b);
      std::get<0>(ports).try_put(b);
      return;
    }
    bump(st.sink.dropped_batches);
    bump(st.sink.dropped_events, b->counts.events);
    bump(st.sink.dropped_bytes, b->out.size());
    bump(st.sink.component.received_events, b->counts.events);
    bump(st.sink.component.received_bytes, b->out.size());
    bump(st.sink.component.discarded("dropped"), b->counts.events);
    finish(b);
  }

  // --- sink stage (its thread): the batch's outcome is final ---
  void written(batch* b) {
    st.sink.tokens.sub();
    if (cfg.on_full == on_full_policy::block) {
      gateway->try_put(1);
    } else {
      --sink_in_use;
    }
    gateway->release_wait();
    finish(b);
  }

  void finish(batch* b) {
    // Every batch, in whatever order it finishes: the reader commits offsets in sequence
    // order, only past what was written (abandoned batches never move them).
    rd->finished(*b);
    pool.release(b);
    // Notified under the lock: run() may return and the pipeline be destroyed as soon
    // as it sees the last batch finished. run() only needs waking for the last batch,
    // or for each one while it watches an abandoned drain make progress; waking it for
    // every batch cost a context switch each (and one more on this mutex).
    std::lock_guard lock(done_mutex);
    ++finished;
    if (drain_abandoned || (reader_done && finished == total)) done_cv.notify_all();
  }

  const config& cfg;
  pipeline_stats& st;
  pipeline_hooks hooks;
  batch_pool pool;
  slot_count read_ahead;
  checkpoint_store* checkpoints;
  std::unique_ptr<source> rd;
  source_emitter out_of_source{*this};
  transform tr;
  dead_letter_writer dl;
  oneapi::tbb::global_control parallelism;
  oneapi::tbb::task_arena arena;
  oneapi::tbb::enumerable_thread_specific<std::unique_ptr<batch_parser>> parsers;
  std::unique_ptr<sink_stage> sink;

  std::unique_ptr<tf::graph> g;
  std::unique_ptr<tf::queue_node<batch*>> read_queue;
  std::unique_ptr<tf::limiter_node<batch*, long>> parse_limit;
  std::unique_ptr<tf::function_node<batch*, batch*>> parse;
  std::unique_ptr<tf::sequencer_node<batch*>> order;
  std::unique_ptr<tf::buffer_node<batch*>> pending;
  std::unique_ptr<tf::limiter_node<batch*, long>> sink_limit;
  std::unique_ptr<gate_node> drop_gate;
  std::unique_ptr<sink_node> to_sink;
  sink_node::gateway_type* gateway = nullptr;
  std::atomic<std::int64_t> sink_in_use{0};  // drop mode only (the gate is serial)

  std::mutex done_mutex;
  std::condition_variable done_cv;
  std::uint64_t finished = 0;
  std::uint64_t total = 0;
  bool reader_done = false;
  bool stop_requested = false;
  bool drain_abandoned = false;  // the drain timed out: run() watches each batch finish
  std::chrono::steady_clock::time_point drain_deadline;
};

pipeline::pipeline(const config& cfg, pipeline_stats& stats, pipeline_parts parts, pipeline_hooks hooks) {
  stats.reader.read_ahead.limit = static_cast<std::int64_t>(cfg.read_ahead);
  stats.parse.tokens.limit = static_cast<std::int64_t>(cfg.parse_tokens);
  stats.sink.tokens.limit = static_cast<std::int64_t>(cfg.sink_tokens);
  stats.batches_alive.limit = static_cast<std::int64_t>(cfg.max_batches_alive());
  impl_ = std::make_unique<impl>(cfg, stats, std::move(parts), std::move(hooks));
}

pipeline::~pipeline() = default;

void pipeline::stop() {
  {
    std::lock_guard lock(impl_->done_mutex);
    if (!impl_->stop_requested) {
      impl_->stop_requested = true;
      impl_->drain_deadline = std::chrono::steady_clock::now() +
                              std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                  std::chrono::duration<double>(impl_->cfg.drain_timeout_s));
    }
  }
  impl_->rd->stop();
  impl_->read_ahead.wake_all();
  std::lock_guard lock(impl_->done_mutex);
  impl_->done_cv.notify_all();
}

void pipeline::reopen_outputs() { impl_->sink->request_reopen(); }

void pipeline::count_stuck() { impl_->sink->count_stuck(impl_->st.parse.events_out.load()); }

pipeline_result pipeline::run() {
  auto& m = *impl_;
  m.sink->start();
  // The reader runs outside the arena; while it may still put batches in, the graph
  // must not look finished.
  m.g->reserve_wait();
  std::thread reader_thread([&m] {
    // Component code: nothing may escape this thread (std::terminate). A source that
    // throws has ended; what it emitted is still delivered.
    try {
      m.rd->run(m.out_of_source);
    } catch (const std::exception& e) {
      spdlog::error("input: {}", e.what());
    }
    const std::uint64_t total = m.out_of_source.emitted();
    m.g->release_wait();
    std::lock_guard lock(m.done_mutex);
    m.total = total;
    m.reader_done = true;
    m.done_cv.notify_all();
  });

  pipeline_result r;
  {
    std::unique_lock lock(m.done_mutex);
    for (;;) {
      if (m.reader_done && m.finished == m.total) break;
      if (m.stop_requested && !m.drain_abandoned) {
        if (m.done_cv.wait_until(lock, m.drain_deadline) == std::cv_status::timeout) {
          // The drain timed out: what is still in flight is counted as undelivered.
          m.drain_abandoned = true;
          r.drain_timed_out = true;
          m.sink->abandon();
        }
        continue;
      }
      if (m.drain_abandoned) {
        // Abandoned batches finish at once unless the sink is stuck inside a write()
        // that never returns (an output nobody reads): then give up on it.
        if (m.done_cv.wait_for(lock, std::chrono::seconds(2)) == std::cv_status::timeout &&
            !(m.reader_done && m.finished == m.total)) {
          r.stuck = true;
          break;
        }
        continue;
      }
      m.done_cv.wait(lock);
    }
  }
  if (r.stuck) {
    // The threads cannot be joined; the caller must exit the process (main does).
    reader_thread.detach();
    r.status = sink_status::failed;
    return r;
  }
  reader_thread.join();
  m.arena.execute([&m] { m.g->wait_for_all(); });
  m.sink->close();
  m.sink->join();
  r.status = m.sink->status();
  r.error = m.sink->error();
  r.failed_inputs = m.rd->failed_inputs();
  return r;
}

}  // namespace sluice
