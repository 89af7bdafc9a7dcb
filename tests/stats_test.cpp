// Stats and metrics rendering: every component is rendered from the one counters type,
// and --stats (JSON) and /metrics (Prometheus text) give the same figures.
#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <sstream>
#include <string>

#include <simdjson.h>

#include "sluice/app.hpp"
#include "sluice/sink/file_sink.hpp"
#include "support/json_text.hpp"
#include "support/recording_output.hpp"

namespace sluice {
namespace {

// "name{labels} value" lines of an exposition, by name and labels.
std::map<std::string, double> samples_of(const std::string& exposition) {
  std::map<std::string, double> out;
  std::istringstream in(exposition);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    const auto space = line.rfind(' ');
    out[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return out;
}

std::string labels(std::string_view kind, std::string_view type, std::string_view id) {
  return "component_kind=\"" + std::string(kind) + "\",component_type=\"" + std::string(type) +
         "\",component_id=\"" + std::string(id) + "\"";
}

// Both renderings agree, component by component and counter by counter.
void expect_same_components(const pipeline_stats& st) {
  simdjson::dom::parser parser;
  const auto json = st.to_json("final");
  const auto obj = testing::parse_object(parser, json);
  const auto prom = samples_of(st.to_prometheus());
  simdjson::dom::array comps;
  ASSERT_EQ(obj["components"].get(comps), simdjson::SUCCESS) << json;
  std::size_t n = 0;
  for (simdjson::dom::object c : comps) {
    ++n;
    const std::string_view id = c["id"], kind = c["kind"], type = c["type"];
    const auto l = labels(kind, type, id);
    for (const char* field : {"received_events", "received_bytes", "sent_events", "sent_bytes"}) {
      const std::string name = std::string("sluice_component_") + field + "_total{" + l + "}";
      ASSERT_EQ(prom.count(name), 1u) << name;
      EXPECT_EQ(prom.at(name), static_cast<double>(std::uint64_t(c[field]))) << name;
    }
    for (auto [reason, value] : simdjson::dom::object(c["discarded_events"])) {
      const std::string name = "sluice_component_discarded_events_total{" + l + ",reason=\"" + std::string(reason) + "\"}";
      ASSERT_EQ(prom.count(name), 1u) << name;
      EXPECT_EQ(prom.at(name), static_cast<double>(std::uint64_t(value))) << name;
    }
    for (auto [type_name, value] : simdjson::dom::object(c["errors"])) {
      const std::string name = "sluice_component_errors_total{" + l + ",error_type=\"" + std::string(type_name) + "\"}";
      ASSERT_EQ(prom.count(name), 1u) << name;
      EXPECT_EQ(prom.at(name), static_cast<double>(std::uint64_t(value))) << name;
    }
  }
  EXPECT_EQ(n, st.components().size());
}

TEST(stats, every_component_is_rendered_the_same_in_json_and_prometheus) {
  pipeline_stats st;
  st.reader.component.type = "file";
  st.parse.component.type = "json";
  st.sink.component.type = "stdout";
  bump(st.reader.component.received_bytes, 1000);
  bump(st.parse.component.discarded("invalid"), 3);
  bump(st.parse.component.sent_events, 17);
  bump(st.sink.component.discarded("rejected"), 2);
  bump(st.sink.component.errors("retry"), 5);
  bump(st.sink.component.sent_bytes, 4096);
  expect_same_components(st);
  const auto prom = samples_of(st.to_prometheus());
  EXPECT_EQ(prom.at("sluice_component_sent_bytes_total{" + labels("sink", "stdout", "out") + "}"), 4096);
  EXPECT_EQ(prom.at("sluice_component_errors_total{" + labels("sink", "stdout", "out") + ",error_type=\"retry\"}"), 5);
}

TEST(stats, a_counter_not_named_when_the_component_was_built_is_a_bug_caught_at_once) {
  pipeline_stats st;
  EXPECT_THROW(st.sink.component.discarded("no such reason"), std::out_of_range);
  EXPECT_THROW(st.reader.component.errors("no such error"), std::out_of_range);
}

TEST(stats, a_real_run_counts_each_component_and_both_renderings_agree) {
  config cfg;
  cfg.inputs = {std::string(SLUICE_SAMPLES_DIR) + "/app.ndjson"};
  cfg.where = R"(level == "error")";
  auto out = std::make_unique<testing::recording_output>();
  app a(cfg, app_overrides{std::make_unique<file_sink>(std::move(out)), nullptr, {}});
  ASSERT_EQ(a.run().code, exit_code::ok);
  const auto& st = a.stats();
  EXPECT_EQ(st.reader.component.type, "file");
  EXPECT_EQ(st.sink.component.type, "file");  // the recording output is not stdout
  EXPECT_EQ(st.reader.component.received_bytes.load(), st.reader.bytes_in.load());
  EXPECT_EQ(st.parse.component.received_events.load(), st.parse.lines_in.load());
  EXPECT_EQ(st.parse.component.sent_events.load(), st.parse.events_out.load());
  EXPECT_EQ(st.parse.component.discarded("invalid").load(), st.parse.invalid.load());
  EXPECT_EQ(st.parse.component.discarded("filtered").load(), st.parse.filtered.load());
  EXPECT_GT(st.parse.filtered.load(), 0u);
  EXPECT_EQ(st.sink.component.received_events.load(), st.sink.events_in.load());
  EXPECT_EQ(st.sink.component.sent_events.load(), st.sink.events_out.load());
  EXPECT_EQ(st.sink.component.sent_bytes.load(), st.sink.bytes_out.load());
  // What a stage received is what the one before it sent.
  EXPECT_EQ(st.parse.component.received_bytes.load(), st.reader.component.sent_bytes.load());
  EXPECT_EQ(st.sink.component.received_events.load(), st.parse.component.sent_events.load());
  expect_same_components(st);
}

}  // namespace
}  // namespace sluice
