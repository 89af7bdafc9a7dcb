// The transform's flags (DESIGN.md §1, §3): the filter, the fields kept, the output
// format, and the parallel stage that runs them.
#include "sluice/errors.hpp"
#include "sluice/flags.hpp"
#include "sluice/transform/reshape.hpp"
#include "sluice/transform/where.hpp"

namespace sluice {

void add_transform_flags(flag_set& flags) {
  const char* group = "Processing";
  // Compiled here to report a bad expression or list as a usage error naming its flag;
  // the transform compiles them again, once, at start-up. An empty one is not given.
  flags.push_back({.name = "--where",
                   .value_name = "EXPR",
                   .help = "Keep events for which EXPR is true (see README: --where)",
                   .group = group,
                   .example = "level == \"error\"",
                   .apply = [](const std::string& v, config& c) {
                     if (!v.empty()) where_expr::compile(v);
                     c.where = v;
                   }});
  flags.push_back({.name = "--select",
                   .value_name = "F,..",
                   .help = "Keep only these fields: F,F.. (req.path, a[\"odd.key\"])",
                   .group = group,
                   .example = "ts,msg,req.path",
                   .apply = [](const std::string& v, config& c) {
                     if (!v.empty()) field_selection::select(v);
                     c.select = v;
                   }});
  flags.push_back({.name = "--drop",
                   .value_name = "F,..",
                   .help = "Remove these fields: F,F.. (not with --select)",
                   .group = group,
                   .example = "tags,ctx",
                   .apply = [](const std::string& v, config& c) {
                     if (!v.empty()) field_selection::drop(v);
                     c.drop = v;
                   }});
  flags.push_back({.name = "--parse-threads",
                   .value_name = "N",
                   .help = "Parser threads (default: hardware threads)",
                   .group = group,
                   .example = "3",
                   .apply = [](const std::string& v, config& c) {
                     const auto n = parse_count("--parse-threads", v);
                     if (n > 1024) throw usage_error("--parse-threads: at most 1024");
                     c.parse_threads = static_cast<unsigned>(n);
                   }});
  flags.push_back({.name = "--unordered",
                   .kind = flag_kind::boolean,
                   .help = "Do not keep input order",
                   .group = group,
                   .apply = [](const std::string&, config& c) { c.unordered = true; }});
  flags.push_back({.name = "--format",
                   .value_name = "json|logfmt",
                   .default_text = "json",
                   .help = "json: one object a line; logfmt: key=value pairs",
                   .group = "Output",
                   .choices = {"json", "logfmt"},
                   .example = "logfmt",
                   .apply = [](const std::string& v, config& c) {
                     c.format = v == "logfmt" ? output_format::logfmt : output_format::json;
                   }});
}

}  // namespace sluice
